import type { NonEmptyArray } from "type-graphql";
import { SystemResolver } from "./system/system.resolver";
import { WebhookEndpointResolver } from "./webhooks/webhook-endpoint.resolver";
import { DeliveryResolver, OutboundEventResolver } from "./webhooks/delivery.resolver";
import { AlertResolver } from "./alerts/alert.resolver";

/** Every feature's resolvers; the schema is built from exactly this list. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const RESOLVERS: NonEmptyArray<Function> = [SystemResolver, WebhookEndpointResolver, DeliveryResolver, OutboundEventResolver, AlertResolver];
