import { ApiKey } from "../auth/api-key.entity";
import { Event } from "../webhooks/event.entity";
import { Affiliate } from "../tenants/affiliate.entity";
import { Operator } from "../tenants/operator.entity";
import { WebhookEndpoint } from "../webhooks/webhook-endpoint.entity";
import { Delivery } from "../webhooks/delivery.entity";
import { DeliveryAttempt } from "../webhooks/delivery-attempt.entity";
import { DeliveryCount } from "../webhooks/delivery-count.entity";
import { DeliveryReplayBatch } from "../webhooks/delivery-replay-batch.entity";
import { Alert } from "../alerts/alert.entity";

/** Every feature's entities, in one list the ORM and the migrations read. */
export const ENTITIES = [
  Operator, Affiliate, ApiKey, Event,
  WebhookEndpoint, Delivery, DeliveryAttempt, DeliveryCount, DeliveryReplayBatch, Alert,
];
