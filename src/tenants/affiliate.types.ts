import { Field, ID, ObjectType } from "type-graphql";
import { Connection } from "../common/pagination";
import type { Affiliate } from "./affiliate.entity";

@ObjectType("Affiliate", { description: "A partner who sends traffic." })
export class AffiliateType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  email!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  static from(affiliate: Affiliate): AffiliateType {
    return Object.assign(new AffiliateType(), { id: affiliate.id, name: affiliate.name, email: affiliate.email ?? null, createdAt: affiliate.createdAt });
  }
}

@ObjectType({ description: "Affiliates, oldest first." })
export class AffiliateConnection extends Connection(AffiliateType) {}
