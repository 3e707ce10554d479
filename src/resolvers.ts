import type { NonEmptyArray } from "type-graphql";
import { SystemResolver } from "./system/system.resolver";
import { JobQueueResolver } from "./jobs/job-queue.resolver";
import { LiveProbeResolver } from "./live/live-probe.resolver";
import { ApiKeyResolver } from "./auth/api-key.resolver";
import { RequestLogResolver } from "./auth/request-log.resolver";
import { ConversionResolver } from "./conversions/conversion.resolver";
import { AffiliateResolver } from "./tenants/affiliate.resolver";
import { CampaignResolver } from "./tenants/campaign.resolver";
import { OperatorResolver } from "./tenants/operator.resolver";
import { WebhookEndpointResolver } from "./webhooks/webhook-endpoint.resolver";
import { DeliveryResolver, OutboundEventResolver } from "./webhooks/delivery.resolver";
import { AlertResolver } from "./alerts/alert.resolver";
import { AlertLiveResolver } from "./alerts/alert-live.resolver";
import { ConversionLiveResolver } from "./conversions/conversion-live.resolver";
import { DeliveryLiveResolver } from "./webhooks/delivery-live.resolver";

/** Every feature's resolvers; the schema is built from exactly this list. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const RESOLVERS: NonEmptyArray<Function> = [
  SystemResolver,
  JobQueueResolver,
  LiveProbeResolver,
  OperatorResolver,
  AffiliateResolver,
  CampaignResolver,
  ApiKeyResolver,
  RequestLogResolver,
  ConversionResolver,
  WebhookEndpointResolver,
  DeliveryResolver,
  OutboundEventResolver,
  AlertResolver,
  DeliveryLiveResolver,
  ConversionLiveResolver,
  AlertLiveResolver,
];
