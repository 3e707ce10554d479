import { Field, ID, InputType, Int } from "type-graphql";
import { DeliveryState } from "./delivery.entity";
import { WebhookFormat } from "./webhook-endpoint.entity";

const MAX_IN_FLIGHT_DESCRIPTION =
  "Attempts in flight at once, across all workers (1-100); absent or null: the hub's WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT. " +
  "Operator and affiliate keys may set at most that default; only admins may raise it.";

@InputType("CreateWebhookEndpointInput")
export class CreateWebhookEndpointInput {
  @Field(() => String, { description: "https URL; for POSTBACK_URL a template with macros such as {click_id}." }) url!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => WebhookFormat, { nullable: true, description: "Default STANDARD_WEBHOOK." }) format?: WebhookFormat | null;
  @Field(() => [String], { nullable: true, description: "Event types to receive; empty or absent: all." }) eventTypes?: string[] | null;
  @Field(() => ID, { nullable: true, description: "Admins only: the operator that owns it (receives only its events)." }) ownerOperatorId?: string | null;
  @Field(() => ID, { nullable: true, description: "Admins only: the affiliate that owns it (receives only events about it)." }) ownerAffiliateId?: string | null;
  @Field(() => Int, { nullable: true, description: "Sends per second at most; excess deliveries wait." }) rateLimitPerSecond?: number | null;
  @Field(() => Int, { nullable: true, description: MAX_IN_FLIGHT_DESCRIPTION }) maxInFlight?: number | null;
  @Field(() => Boolean, { nullable: true, description: "Default true." }) enabled?: boolean | null;
}

@InputType("UpdateWebhookEndpointInput", { description: "Absent fields stay; null clears description and rateLimitPerSecond, and returns maxInFlight to the hub default." })
export class UpdateWebhookEndpointInput {
  @Field(() => String, { nullable: true }) url?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => WebhookFormat, { nullable: true }) format?: WebhookFormat | null;
  @Field(() => [String], { nullable: true }) eventTypes?: string[] | null;
  @Field(() => Int, { nullable: true }) rateLimitPerSecond?: number | null;
  @Field(() => Int, { nullable: true, description: MAX_IN_FLIGHT_DESCRIPTION }) maxInFlight?: number | null;
}

@InputType("DeliveryFilter")
export class DeliveryFilterInput {
  @Field(() => ID, { nullable: true }) endpointId?: string | null;
  @Field(() => ID, { nullable: true }) eventId?: string | null;
  @Field(() => DeliveryState, { nullable: true }) state?: DeliveryState | null;
  @Field(() => Date, { nullable: true, description: "Created at or after." }) from?: Date | null;
  @Field(() => Date, { nullable: true, description: "Created before." }) to?: Date | null;
}
