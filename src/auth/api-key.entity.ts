import { Entity, Enum, ManyToOne, Property, Unique } from "@mikro-orm/core";
import { Affiliate } from "../tenants/affiliate.entity";
import { Operator } from "../tenants/operator.entity";
import { BaseEntity } from "../db/base.entity";
import { ApiKeyRole } from "../common/viewer";

@Entity({ tableName: "api_key" })
export class ApiKey extends BaseEntity<"lastUsedAt" | "revokedAt" | "allowedIps" | "rateLimitPerMinute" | "operatorId" | "affiliateId"> {
  @Property({ type: "string", length: 200 })
  name!: string;

  @Enum({ items: () => ApiKeyRole, nativeEnumName: "api_key_role" })
  role!: ApiKeyRole;

  @ManyToOne(() => Operator, { nullable: true, deleteRule: "cascade", mapToPk: true, fieldName: "operator_id" })
  operatorId?: string | null;

  @ManyToOne(() => Affiliate, { nullable: true, deleteRule: "cascade", mapToPk: true, fieldName: "affiliate_id" })
  affiliateId?: string | null;

  /** The first characters of the key, shown so people can tell keys apart. */
  @Property({ type: "string", length: 16 })
  prefix!: string;

  /** SHA-256 of the whole key: keys are 256-bit random, so a fast hash is safe and allows lookup by hash. */
  @Unique({ name: "api_key_key_hash_unique" })
  @Property({ type: "string", length: 64 })
  keyHash!: string;

  @Property({ type: "array", columnType: "text[]", default: "{}" })
  allowedIps: string[] = [];

  @Property({ type: "integer", nullable: true })
  rateLimitPerMinute?: number | null;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  lastUsedAt?: Date | null;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  revokedAt?: Date | null;
}
