import { Entity, ManyToOne, Property, Unique } from "@mikro-orm/core";
import { BaseEntity } from "../db/base.entity";
import { Affiliate } from "../tenants/affiliate.entity";
import { Campaign } from "../tenants/campaign.entity";
import { Operator } from "../tenants/operator.entity";

/**
 * One visit through an affiliate's link. `clickId` is the public id the operator echoes
 * back in postbacks; the redirect uses the row id's text, imports may bring their own,
 * so it is unique per operator rather than globally.
 */
@Entity({ tableName: "click" })
@Unique({ name: "click_operator_click_id_unique", properties: ["operatorId", "clickId"] })
export class Click extends BaseEntity<"sub1" | "sub2" | "sub3" | "sub4" | "sub5" | "ip" | "userAgent"> {
  @Property({ type: "string", length: 255 })
  clickId!: string;

  /** Denormalised from the campaign: postbacks look clicks up by (operator, click id). */
  @ManyToOne(() => Operator, { mapToPk: true, fieldName: "operator_id" })
  operatorId!: string;

  @ManyToOne(() => Campaign, { mapToPk: true, fieldName: "campaign_id" })
  campaignId!: string;

  @ManyToOne(() => Affiliate, { mapToPk: true, fieldName: "affiliate_id" })
  affiliateId!: string;

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

  @Property({ type: "string", length: 64, nullable: true })
  ip?: string | null;

  @Property({ type: "string", length: 512, nullable: true })
  userAgent?: string | null;
}
