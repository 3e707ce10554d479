import { Entity, Property } from "@mikro-orm/core";
import { BaseEntity } from "../db/base.entity";

/** A partner who sends traffic and earns commissions. */
@Entity({ tableName: "affiliate" })
export class Affiliate extends BaseEntity<"email"> {
  @Property({ type: "string", length: 200 })
  name!: string;

  @Property({ type: "string", length: 320, nullable: true })
  email?: string | null;
}
