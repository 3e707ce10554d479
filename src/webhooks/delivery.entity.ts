import { Entity, Enum, Index, ManyToOne, Property, Unique } from "@mikro-orm/core";
import { BaseEntity } from "../db/base.entity";
import { WebhookEndpoint } from "./webhook-endpoint.entity";
import { Event } from "../outbox/event.entity";

export enum DeliveryState {
  /** Waiting for the first attempt of its series (or a rate-limit slot). */
  PENDING = "pending",
  /** The last attempt failed; a retry is scheduled. */
  FAILED = "failed",
  SUCCEEDED = "succeeded",
  /** Every attempt of the series failed: flagged for manual review. */
  DEAD = "dead",
}

/** States that count as queue depth: not yet succeeded or dead. */
/**
 * One event for one endpoint. Its state lives here, not in the job queue: the delivery
 * task leases the row, makes one attempt, records it and schedules the next one itself.
 * A replay starts a new series on the same row (the event id, and so `webhook-id`, stay).
 */
@Entity({ tableName: "delivery" })
@Unique({ name: "delivery_event_endpoint_unique", properties: ["eventId", "endpointId"] })
@Index({ name: "delivery_endpoint_id_idx", properties: ["endpointId", "id"] })
@Index({
  name: "delivery_unfinished_next_idx",
  expression: `create index "delivery_unfinished_next_idx" on "delivery" ("next_attempt_at", "endpoint_id") where state in ('pending', 'failed')`,
})
@Index({
  name: "delivery_unfinished_queued_idx",
  expression: `create index "delivery_unfinished_queued_idx" on "delivery" ("endpoint_id", "queued_at") where state in ('pending', 'failed')`,
})
@Index({
  name: "delivery_leased_idx",
  expression: `create index "delivery_leased_idx" on "delivery" ("lease_expires_at") where lease_token is not null`,
})
/** At most one live lease per slot number of an endpoint: what makes its in-flight limit exact. */
@Index({
  name: "delivery_endpoint_lease_slot_unique",
  expression: `create unique index "delivery_endpoint_lease_slot_unique" on "delivery" ("endpoint_id", "lease_slot") where lease_token is not null`,
})
/** Parked deliveries, in the order they are woken. */
@Index({
  name: "delivery_waiting_for_slot_idx",
  expression: `create index "delivery_waiting_for_slot_idx" on "delivery" ("endpoint_id", "next_attempt_at") where waiting_for_slot_since is not null`,
})
/** Unfinished deliveries neither leased nor parked: what parking takes from, without walking past the parked ones. */
@Index({
  name: "delivery_ready_idx",
  expression: `create index "delivery_ready_idx" on "delivery" ("endpoint_id", "next_attempt_at") where state in ('pending', 'failed') and lease_token is null and waiting_for_slot_since is null`,
})
@Index({
  name: "delivery_replayable_idx",
  expression: `create index "delivery_replayable_idx" on "delivery" ("endpoint_id", "created_at") where state in ('failed', 'dead')`,
})
export class Delivery extends BaseEntity<
  | "state" | "series" | "replay" | "attemptCount" | "queuedAt" | "nextAttemptAt" | "leaseToken" | "leaseExpiresAt" | "leasedAt"
  | "leaseSlot" | "waitingForSlotSince" | "rateSlotAt" | "lastAttemptAt" | "lastHttpStatus" | "lastErrorClass" | "succeededAt" | "deadAt"
> {
  @ManyToOne(() => Event, { deleteRule: "cascade", mapToPk: true, fieldName: "event_id" })
  eventId!: string;

  @ManyToOne(() => WebhookEndpoint, { deleteRule: "cascade", mapToPk: true, fieldName: "endpoint_id" })
  endpointId!: string;

  @Enum({ items: () => DeliveryState, default: DeliveryState.PENDING })
  state: DeliveryState = DeliveryState.PENDING;

  /** 0 for the original series; each replay adds one. */
  @Property({ type: "integer", default: 0 })
  series: number = 0;

  /** The current series was started by a replay. */
  @Property({ type: "boolean", default: false })
  replay: boolean = false;

  /** Attempts made in the current series. */
  @Property({ type: "integer", default: 0 })
  attemptCount: number = 0;

  /** When the current series started: the age of a pending delivery counts from here. */
  @Property({ type: "datetime", columnType: "timestamptz" })
  queuedAt: Date = new Date();

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  nextAttemptAt?: Date | null;

  /** Set while a worker attempts it; another worker may take over only after expiry. */
  @Property({ type: "uuid", nullable: true })
  leaseToken?: string | null;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  leaseExpiresAt?: Date | null;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  leasedAt?: Date | null;

  /** Which of the endpoint's in-flight slots the lease holds (0 to its limit - 1). */
  @Property({ type: "smallint", nullable: true })
  leaseSlot?: number | null;

  /**
   * Set while the delivery is due but its endpoint has no free in-flight slot: its job is
   * parked, and the attempt that frees a slot wakes it.
   */
  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  waitingForSlotSince?: Date | null;

  /** A send slot reserved under the endpoint's rate limit. */
  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  rateSlotAt?: Date | null;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  lastAttemptAt?: Date | null;

  @Property({ type: "integer", nullable: true })
  lastHttpStatus?: number | null;

  @Property({ type: "string", length: 16, nullable: true })
  lastErrorClass?: string | null;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  succeededAt?: Date | null;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  deadAt?: Date | null;
}
