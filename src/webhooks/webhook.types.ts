import { GraphQLJSONObject } from "graphql-scalars";
import { Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { Connection } from "../common/pagination";
import { DeliveryState } from "./delivery.entity";
import { ReplayBatchState } from "./delivery-replay-batch.entity";
import { EndpointDisabledReason, WebhookFormat } from "./webhook-endpoint.entity";

/**
 * GraphQL shapes. Resolvers return the entities themselves where the field names match
 * (secrets have no field here, so they cannot leak); computed fields have resolvers.
 */

registerEnumType(WebhookFormat, { name: "WebhookFormat", description: "STANDARD_WEBHOOK: signed JSON POST. POSTBACK_URL: GET of a URL template with macros (conversion events only)." });
registerEnumType(EndpointDisabledReason, { name: "WebhookEndpointDisabledReason" });
registerEnumType(DeliveryState, { name: "DeliveryState" });
registerEnumType(ReplayBatchState, { name: "DeliveryReplayBatchState" });

export enum DeliveryErrorClass {
  TIMEOUT = "timeout",
  CONNECTION = "connection",
  DNS = "dns",
  TLS = "tls",
  HTTP = "http",
}
registerEnumType(DeliveryErrorClass, { name: "DeliveryErrorClass" });

@ObjectType("WebhookEndpointStats", { description: "Queue figures now, and health over the last 100 attempts." })
export class WebhookEndpointStatsType {
  @Field(() => Int) pending!: number;
  @Field(() => Int) dueNow!: number;
  @Field(() => Int) scheduledRetries!: number;
  @Field(() => Int) inFlight!: number;
  @Field(() => Int) dead!: number;
  @Field(() => Float, { nullable: true }) oldestPendingAgeSeconds!: number | null;
  @Field(() => Int) recentAttempts!: number;
  @Field(() => Int) recentSucceeded!: number;
  @Field(() => Int) recentFailed!: number;
  @Field(() => Int, { nullable: true }) averageDurationMs!: number | null;
  @Field(() => Date, { nullable: true }) lastAttemptAt!: Date | null;
  @Field(() => Date, { nullable: true }) lastSuccessAt!: Date | null;
  @Field(() => Date, { nullable: true }) lastFailureAt!: Date | null;
}

@ObjectType("WebhookEndpoint")
export class WebhookEndpointType {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: "For POSTBACK_URL endpoints, the URL template." }) url!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => WebhookFormat) format!: WebhookFormat;
  @Field(() => [String], { description: "Empty: every event type." }) eventTypes!: string[];
  @Field(() => ID, { nullable: true }) ownerOperatorId!: string | null;
  @Field(() => ID, { nullable: true }) ownerAffiliateId!: string | null;
  @Field(() => Int, { nullable: true }) rateLimitPerSecond!: number | null;
  @Field(() => Int, {
    nullable: true,
    description: "Attempts in flight at once, across all workers; null: the hub's WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT. While the endpoint is failing, one at a time.",
  })
  maxInFlight!: number | null;
  @Field(() => Boolean) enabled!: boolean;
  @Field(() => Date, { nullable: true }) disabledAt!: Date | null;
  @Field(() => EndpointDisabledReason, { nullable: true }) disabledReason!: EndpointDisabledReason | null;
  @Field(() => Date) secretCreatedAt!: Date;
  @Field(() => Date, { nullable: true, description: "Until then, deliveries carry a second signature by the previous secret." })
  previousSecretExpiresAt!: Date | null;
  @Field(() => Date, { nullable: true, description: "Start of the current run of failed attempts." }) failingSince!: Date | null;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) updatedAt!: Date;
}

@ObjectType({ description: "Webhook endpoints, oldest first." })
export class WebhookEndpointConnection extends Connection(WebhookEndpointType) {}

@ObjectType("CreateWebhookEndpointPayload")
export class CreateWebhookEndpointPayload {
  @Field(() => WebhookEndpointType) endpoint!: WebhookEndpointType;
  @Field(() => String, { description: "The signing secret (whsec_...). Shown this once." }) secret!: string;
}

@ObjectType("RotateWebhookSecretPayload")
export class RotateWebhookSecretPayload {
  @Field(() => WebhookEndpointType) endpoint!: WebhookEndpointType;
  @Field(() => String, { description: "The new signing secret. Shown this once." }) secret!: string;
}

@ObjectType("DeliveryAttempt")
export class DeliveryAttemptType {
  @Field(() => ID) id!: string;
  @Field(() => ID) deliveryId!: string;
  @Field(() => ID) endpointId!: string;
  @Field(() => ID) eventId!: string;
  @Field(() => Int, { description: "0 for the original series; each replay starts the next." }) series!: number;
  @Field(() => Int) attemptNumber!: number;
  @Field(() => Boolean, { description: "Part of a series started by a replay." }) replay!: boolean;
  @Field(() => Date) startedAt!: Date;
  @Field(() => Int) durationMs!: number;
  @Field(() => Boolean) succeeded!: boolean;
  @Field(() => Int, { nullable: true }) httpStatus!: number | null;
  @Field(() => GraphQLJSONObject, { nullable: true }) responseHeaders!: Record<string, string> | null;
  @Field(() => String, { nullable: true, description: "At most 4 KiB of the response body." }) responseBody!: string | null;
  @Field(() => DeliveryErrorClass, { nullable: true }) errorClass!: DeliveryErrorClass | null;
  @Field(() => String, { nullable: true }) errorMessage!: string | null;
  @Field(() => Date, { nullable: true, description: "When the next attempt was scheduled for; null when this one ended the series." })
  nextAttemptAt!: Date | null;
  @Field(() => String, { description: "host:pid of the worker process." }) worker!: string;
}

@ObjectType("Delivery", { description: "One event for one endpoint." })
export class DeliveryType {
  @Field(() => ID) id!: string;
  @Field(() => ID, { description: "Also the webhook-id header, the same on every retry and replay." }) eventId!: string;
  @Field(() => ID) endpointId!: string;
  @Field(() => DeliveryState) state!: DeliveryState;
  @Field(() => Int) series!: number;
  @Field(() => Boolean, { description: "The current series was started by a replay." }) replay!: boolean;
  @Field(() => Int, { description: "Attempts in the current series." }) attemptCount!: number;
  @Field(() => Date) queuedAt!: Date;
  @Field(() => Date, { nullable: true }) nextAttemptAt!: Date | null;
  @Field(() => Date, { nullable: true }) lastAttemptAt!: Date | null;
  @Field(() => Int, { nullable: true }) lastHttpStatus!: number | null;
  @Field(() => DeliveryErrorClass, { nullable: true }) lastErrorClass!: DeliveryErrorClass | null;
  @Field(() => Date, { nullable: true }) succeededAt!: Date | null;
  @Field(() => Date, { nullable: true, description: "Set when every attempt failed: the delivery awaits review or replay." }) deadAt!: Date | null;
  @Field(() => Date) createdAt!: Date;
}

@ObjectType({ description: "Deliveries, newest first." })
export class DeliveryConnection extends Connection(DeliveryType) {}

@ObjectType("OutboundEvent", { description: "An event the hub sends to webhook endpoints." })
export class OutboundEventType {
  @Field(() => ID) id!: string;
  @Field(() => String) type!: string;
  @Field(() => GraphQLJSONObject, { description: "The `data` of the webhook body." }) payload!: Record<string, unknown>;
  @Field(() => ID, { nullable: true }) operatorId!: string | null;
  @Field(() => ID, { nullable: true }) affiliateId!: string | null;
  @Field(() => Date) createdAt!: Date;
}

@ObjectType("EndpointQueueStats")
export class EndpointQueueStatsType {
  @Field(() => ID) endpointId!: string;
  @Field(() => Boolean) enabled!: boolean;
  @Field(() => Int) pending!: number;
  @Field(() => Int) dueNow!: number;
  @Field(() => Int) scheduledRetries!: number;
  @Field(() => Int) inFlight!: number;
  @Field(() => Int) dead!: number;
  @Field(() => Float, { nullable: true }) oldestPendingAgeSeconds!: number | null;
}

@ObjectType("QueueStats", { description: "The delivery queue now. Cheap at any table size (counters and partial indexes)." })
export class QueueStatsType {
  @Field(() => Int, { description: "Deliveries not yet succeeded or dead." }) pending!: number;
  @Field(() => Int, { description: "Pending, due, and not in flight (a disabled endpoint's deliveries wait here)." }) dueNow!: number;
  @Field(() => Int, { description: "Pending with the next attempt in the future: a scheduled retry or a rate-limit slot." }) scheduledRetries!: number;
  @Field(() => Int) inFlight!: number;
  @Field(() => Int) dead!: number;
  @Field(() => Float, { nullable: true }) oldestPendingAgeSeconds!: number | null;
  @Field(() => Date) sampledAt!: Date;
  @Field(() => [EndpointQueueStatsType]) endpoints!: EndpointQueueStatsType[];
}

@ObjectType("DeliveryReplayBatch", { description: "A replayFailedDeliveries request, run in the background." })
export class DeliveryReplayBatchType {
  @Field(() => ID) id!: string;
  @Field(() => ID) endpointId!: string;
  @Field(() => Date) since!: Date;
  @Field(() => Date) until!: Date;
  @Field(() => ReplayBatchState) state!: ReplayBatchState;
  @Field(() => Int, { nullable: true, description: "Failed and dead deliveries found in the window (at most 10 000)." }) matched!: number | null;
  @Field(() => Int) replayed!: number;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
  @Field(() => String, { nullable: true }) error!: string | null;
}
