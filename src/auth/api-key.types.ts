import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { Connection } from "../common/pagination";
import { ApiKey } from "./api-key.entity";
import { ApiKeyRole } from "../common/viewer";

registerEnumType(ApiKeyRole, { name: "ApiKeyRole", description: "ADMIN: everything. OPERATOR: one operator's data and postbacks. AFFILIATE: one affiliate's data." });

@ObjectType("ApiKey", { description: "An API key as stored: its secret is never readable, only its prefix." })
export class ApiKeyType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => ApiKeyRole)
  role!: ApiKeyRole;

  @Field(() => ID, { nullable: true })
  operatorId!: string | null;

  @Field(() => ID, { nullable: true })
  affiliateId!: string | null;

  @Field(() => String, { description: "The key's first characters, to tell keys apart." })
  prefix!: string;

  @Field(() => [String], { description: "CIDRs the key may be used from; empty: anywhere." })
  allowedIps!: string[];

  @Field(() => Int, { nullable: true, description: "Requests per minute; null: the hub's default (RATE_LIMIT_PER_MINUTE)." })
  rateLimitPerMinute!: number | null;

  @Field(() => Date, { nullable: true, description: "Last use, written in batches (may trail by the flush interval)." })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;

  @Field(() => Date)
  createdAt!: Date;

  static from(key: ApiKey): ApiKeyType {
    return Object.assign(new ApiKeyType(), {
      id: key.id,
      name: key.name,
      role: key.role,
      operatorId: key.operatorId ?? null,
      affiliateId: key.affiliateId ?? null,
      prefix: key.prefix,
      allowedIps: key.allowedIps,
      rateLimitPerMinute: key.rateLimitPerMinute ?? null,
      lastUsedAt: key.lastUsedAt ?? null,
      revokedAt: key.revokedAt ?? null,
      createdAt: key.createdAt,
    });
  }
}

@ObjectType({ description: "The new key and its secret, shown this once." })
export class ApiKeyWithSecret {
  @Field(() => ApiKeyType)
  apiKey!: ApiKeyType;

  @Field(() => String, { description: "Send as X-Api-Key or Authorization: Bearer. Store it now: only its hash is kept." })
  secret!: string;
}

@ObjectType({ description: "API keys, oldest first." })
export class ApiKeyConnection extends Connection(ApiKeyType) {}
