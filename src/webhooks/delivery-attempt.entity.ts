import { Entity, Index, ManyToOne, Property, Unique } from "@mikro-orm/core";
import { BaseEntity } from "../db/base.entity";
import { Delivery } from "./delivery.entity";

/** The attempt log: one row per HTTP attempt, as the receiver answered it. */
@Entity({ tableName: "delivery_attempt" })
@Unique({ name: "delivery_attempt_number_unique", properties: ["deliveryId", "series", "attemptNumber"] })
@Index({ name: "delivery_attempt_endpoint_started_idx", properties: ["endpointId", "startedAt"] })
export class DeliveryAttempt extends BaseEntity<"httpStatus" | "responseHeaders" | "responseBody" | "errorClass" | "errorMessage" | "nextAttemptAt"> {
  @ManyToOne(() => Delivery, { deleteRule: "cascade", mapToPk: true, fieldName: "delivery_id" })
  deliveryId!: string;

  /** Copied from the delivery so per-endpoint history needs no join. */
  @Property({ type: "uuid" })
  endpointId!: string;

  @Property({ type: "uuid" })
  eventId!: string;

  @Property({ type: "integer" })
  series!: number;

  /** 1-based within its series. */
  @Property({ type: "integer" })
  attemptNumber!: number;

  /** Part of a series started by a replay. */
  @Property({ type: "boolean" })
  replay!: boolean;

  @Property({ type: "datetime", columnType: "timestamptz" })
  startedAt!: Date;

  @Property({ type: "integer" })
  durationMs!: number;

  @Property({ type: "boolean" })
  succeeded!: boolean;

  @Property({ type: "integer", nullable: true })
  httpStatus?: number | null;

  @Property({ type: "json", columnType: "jsonb", nullable: true })
  responseHeaders?: Record<string, string> | null;

  /** At most 4 KiB of the response. */
  @Property({ type: "text", nullable: true })
  responseBody?: string | null;

  /** timeout | connection | dns | tls | http */
  @Property({ type: "string", length: 16, nullable: true })
  errorClass?: string | null;

  @Property({ type: "text", nullable: true })
  errorMessage?: string | null;

  /** When the next attempt was scheduled for; null when this one ended the series. */
  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  nextAttemptAt?: Date | null;

  /** `host:pid` of the worker process that made it. */
  @Property({ type: "string", length: 200 })
  worker!: string;
}
