import { Entity, Index, ManyToOne, Property } from "@mikro-orm/core";
import { BaseEntity } from "../db/base.entity";
import { Operator } from "./operator.entity";

/** An operator's offer: the click redirect sends visitors to its landing URL template. */
@Entity({ tableName: "campaign" })
@Index({ name: "campaign_operator_created_idx", properties: ["operatorId", "createdAt"] })
export class Campaign extends BaseEntity {
  @ManyToOne(() => Operator, { deleteRule: "cascade", mapToPk: true, fieldName: "operator_id" })
  operatorId!: string;

  @Property({ type: "string", length: 200 })
  name!: string;

  /** An absolute http(s) URL containing `{click_id}`, replaced by the click's id on redirect. */
  @Property({ type: "string", length: 2048 })
  landingUrl!: string;
}
