import { Field, ID, InputType, Int } from "type-graphql";
import "./api-key.types";
import { ApiKeyRole } from "../common/viewer";

@InputType()
export class CreateApiKeyInput {
  @Field(() => ApiKeyRole)
  role!: ApiKeyRole;

  @Field(() => ID, { nullable: true, description: "Required for OPERATOR keys, refused for others." })
  operatorId?: string | null;

  @Field(() => ID, { nullable: true, description: "Required for AFFILIATE keys, refused for others." })
  affiliateId?: string | null;

  @Field(() => String)
  name!: string;

  @Field(() => [String], { nullable: true, description: "IPv4/IPv6 addresses or CIDRs; empty or absent: any address." })
  allowedIps?: string[] | null;

  @Field(() => Int, { nullable: true, description: "Requests per minute; absent: the hub's default." })
  rateLimitPerMinute?: number | null;
}
