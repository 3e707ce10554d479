import { Entity, PrimaryKey, Property } from "@mikro-orm/core";

/**
 * Queue-depth counters, kept by triggers on `delivery` (see the migration), so that
 * queueStats reads a few hundred rows instead of counting a table of millions.
 * Writers only ever insert deltas (no hot row to contend on); worker processes fold
 * them together every QUEUE_SAMPLE_INTERVAL_MS. Unfinished deliveries are bucketed by
 * the minute of their next attempt, which splits "due now" from "scheduled".
 */
@Entity({ tableName: "delivery_count" })
export class DeliveryCount {
  @PrimaryKey({ type: "bigint", autoincrement: true })
  id!: string;

  @Property({ type: "uuid" })
  endpointId!: string;

  @Property({ type: "string", length: 16 })
  state!: string;

  /** Minute of next_attempt_at for unfinished deliveries; -infinity otherwise or once past. */
  @Property({ type: "datetime", columnType: "timestamptz" })
  dueMinute!: Date;

  @Property({ type: "bigint" })
  delta!: string;
}
