import { Entity, Index, Property } from "@mikro-orm/core";
import { BaseEntity } from "../db/base.entity";

/** An outbound message: written in the same transaction as the change it announces (the outbox). */
@Entity({ tableName: "event" })
@Index({ name: "event_operator_created_idx", properties: ["operatorId", "createdAt"] })
export class Event extends BaseEntity<"operatorId" | "affiliateId"> {
  @Property({ type: "string", length: 100 })
  type!: string;

  @Property({ type: "json", columnType: "jsonb" })
  payload!: Record<string, unknown>;

  /** The operator the event is about, for routing to operator-owned endpoints. */
  @Property({ type: "uuid", nullable: true })
  operatorId?: string | null;

  /** The affiliate the event is about, for routing to affiliate-owned endpoints. */
  @Property({ type: "uuid", nullable: true })
  affiliateId?: string | null;
}
