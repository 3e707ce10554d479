import { Entity, Enum, Index, ManyToOne, Property, Unique } from "@mikro-orm/core";
import { BaseEntity } from "../db/base.entity";
import { Affiliate } from "../tenants/affiliate.entity";
import { Operator } from "../tenants/operator.entity";
import { Click } from "../clicks/click.entity";
import { Attribution, ConversionSource, ConversionStatus } from "./conversion-status";

/**
 * One inbound event for a click or customer. Its identity (see identityKey) is enforced
 * by a unique index, so concurrent repeats cannot both insert: the database decides.
 */
@Entity({ tableName: "conversion" })
@Unique({ name: "conversion_identity_unique", properties: ["operatorId", "identityKey"] })
@Index({ name: "conversion_operator_created_idx", properties: ["operatorId", "createdAt", "id"] })
@Index({ name: "conversion_affiliate_created_idx", properties: ["affiliateId", "createdAt", "id"] })
@Index({ name: "conversion_created_idx", properties: ["createdAt", "id"] })
@Index({
  name: "conversion_customer_attribution_idx",
  expression:
    'create index "conversion_customer_attribution_idx" on "conversion" ("operator_id", "customer_id", "created_at") where affiliate_id is not null and customer_id is not null',
})
export class Conversion extends BaseEntity<
  | "affiliateId" | "attributedClickId" | "clickId" | "customerId" | "eventId" | "amount" | "currency" | "attribution"
  | "sub1" | "sub2" | "sub3" | "sub4" | "sub5" | "apiKeyId" | "statusChangedAt" | "updatedAt"
> {
  @ManyToOne(() => Operator, { mapToPk: true, fieldName: "operator_id" })
  operatorId!: string;

  /** Null: unattributed (unknown click, unknown customer); kept, findable, never dropped. */
  // restrict: deleting an affiliate must never silently un-attribute money.
  @ManyToOne(() => Affiliate, { nullable: true, mapToPk: true, fieldName: "affiliate_id", deleteRule: "restrict" })
  affiliateId?: string | null;

  /** The click the affiliate was found through (directly, or via the customer's earlier conversion). */
  @ManyToOne(() => Click, { nullable: true, mapToPk: true, fieldName: "attributed_click_id", deleteRule: "restrict" })
  attributedClickId?: string | null;

  @Enum({ items: () => Attribution, nativeEnumName: "conversion_attribution", nullable: true })
  attribution?: Attribution | null;

  /** As sent by the operator. */
  @Property({ type: "string", length: 255, nullable: true })
  clickId?: string | null;

  @Property({ type: "string", length: 255, nullable: true })
  customerId?: string | null;

  @Property({ type: "string", length: 64 })
  event!: string;

  @Property({ type: "string", length: 255, nullable: true })
  eventId?: string | null;

  /**
   * `e:<event_id>` when the operator gave one, else `c:<click_id>:<event>` or
   * `u:<customer_id>:<event>`: one unique index covers both identity forms.
   */
  @Property({ type: "text" })
  identityKey!: string;

  @Property({ type: "decimal", columnType: "numeric(20,8)", nullable: true })
  amount?: string | null;

  @Property({ type: "string", length: 3, nullable: true })
  currency?: string | null;

  @Enum({ items: () => ConversionStatus, nativeEnumName: "conversion_status" })
  status!: ConversionStatus;

  @Property({ type: "datetime", columnType: "timestamptz" })
  occurredAt!: Date;

  @Property({ type: "string", length: 255, nullable: true })
  sub1?: string | null;

  @Property({ type: "string", length: 255, nullable: true })
  sub2?: string | null;

  @Property({ type: "string", length: 255, nullable: true })
  sub3?: string | null;

  @Property({ type: "string", length: 255, nullable: true })
  sub4?: string | null;

  @Property({ type: "string", length: 255, nullable: true })
  sub5?: string | null;

  @Enum({ items: () => ConversionSource, nativeEnumName: "conversion_source" })
  source!: ConversionSource;

  /** The key that sent it (audit); not a foreign key so the trail outlives the key row. */
  @Property({ type: "uuid", nullable: true })
  apiKeyId?: string | null;

  /** The request as received, unknown parameters included, for audit and disputes. */
  @Property({ type: "json", columnType: "jsonb" })
  rawRequest!: Record<string, unknown>;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  statusChangedAt?: Date | null;

  @Property({ type: "datetime", columnType: "timestamptz" })
  updatedAt: Date = new Date();
}
