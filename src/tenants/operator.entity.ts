import { Entity, Property } from "@mikro-orm/core";
import { BaseEntity } from "../db/base.entity";

/** A brand whose systems integrate: sends postbacks, owns keys, secrets and connectors. */
@Entity({ tableName: "operator" })
export class Operator extends BaseEntity<"requireSignature"> {
  @Property({ type: "string", length: 200 })
  name!: string;

  @Property({ type: "boolean", default: true })
  requireSignature: boolean = true;
}
