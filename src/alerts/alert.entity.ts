import { Entity, Enum, Index, ManyToOne, Property } from "@mikro-orm/core";
import { BaseEntity } from "../db/base.entity";
import { WebhookEndpoint } from "../webhooks/webhook-endpoint.entity";

export enum AlertKind {
  QUEUE_DEPTH = "QUEUE_DEPTH",
  DELIVERIES_DEAD = "DELIVERIES_DEAD",
  ENDPOINT_DISABLED = "ENDPOINT_DISABLED",
  SECRET_ROTATION_DUE = "SECRET_ROTATION_DUE",
}

export enum AlertSeverity {
  WARNING = "WARNING",
  CRITICAL = "CRITICAL",
}

/**
 * A condition ops must look at. At most one active alert per key (a partial unique
 * index), so raising is idempotent across processes; resolving ends it.
 */
@Entity({ tableName: "alert" })
@Index({
  name: "alert_active_key_unique",
  expression: `create unique index "alert_active_key_unique" on "alert" ("key") where resolved_at is null`,
})
@Index({ name: "alert_created_idx", properties: ["createdAt"] })
export class Alert extends BaseEntity<"details" | "endpointId" | "operatorId" | "affiliateId" | "resolvedAt" | "acknowledgedAt" | "acknowledgedByKeyId"> {
  @Enum({ items: () => AlertKind })
  kind!: AlertKind;

  @Enum({ items: () => AlertSeverity })
  severity!: AlertSeverity;

  /** What makes two alerts the same condition, e.g. `endpoint_disabled:<id>`. */
  @Property({ type: "string", length: 200 })
  key!: string;

  @Property({ type: "text" })
  message!: string;

  @Property({ type: "json", columnType: "jsonb", default: "{}" })
  details: Record<string, unknown> = {};

  /** The endpoint that caused it, if any: its `alert.raised` event never goes there. */
  @ManyToOne(() => WebhookEndpoint, { nullable: true, deleteRule: "set null", mapToPk: true, fieldName: "endpoint_id" })
  endpointId?: string | null;

  /** Tenant scope (the endpoint's owner), for who may see it. */
  @Property({ type: "uuid", nullable: true })
  operatorId?: string | null;

  @Property({ type: "uuid", nullable: true })
  affiliateId?: string | null;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  resolvedAt?: Date | null;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  acknowledgedAt?: Date | null;

  @Property({ type: "uuid", nullable: true })
  acknowledgedByKeyId?: string | null;
}
