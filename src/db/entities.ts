import { ApiKey } from "../auth/api-key.entity";
import { RateLimitBucket } from "../auth/rate-limit.entity";
import { RequestLog } from "../auth/request-log.entity";
import { Click } from "../clicks/click.entity";
import { Conversion } from "../conversions/conversion.entity";
import { ConversionStatusChange } from "../conversions/conversion-status-change.entity";
import { Event } from "../webhooks/event.entity";
import { Affiliate } from "../tenants/affiliate.entity";
import { Campaign } from "../tenants/campaign.entity";
import { Operator } from "../tenants/operator.entity";
import { WebhookEndpoint } from "../webhooks/webhook-endpoint.entity";
import { Delivery } from "../webhooks/delivery.entity";
import { DeliveryAttempt } from "../webhooks/delivery-attempt.entity";
import { DeliveryCount } from "../webhooks/delivery-count.entity";
import { DeliveryReplayBatch } from "../webhooks/delivery-replay-batch.entity";
import { Alert } from "../alerts/alert.entity";

/** Every feature's entities, in one list the ORM and the migrations read. */
export const ENTITIES = [
  Operator,
  Affiliate,
  ApiKey,
  Event,
  Campaign,
  Click,
  Conversion,
  ConversionStatusChange,
  RequestLog,
  RateLimitBucket,
  WebhookEndpoint,
  Delivery,
  DeliveryAttempt,
  DeliveryCount,
  DeliveryReplayBatch,
  Alert,
];
