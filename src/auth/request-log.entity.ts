import { Entity, Index, Property } from "@mikro-orm/core";
import { BaseEntity } from "../db/base.entity";

/**
 * One API call (REST or GraphQL), written in batches off the request path. createdAt is
 * when the request arrived. No foreign keys: the log must take any row, fast, and
 * outlive what it mentions.
 */
@Entity({ tableName: "request_log" })
@Index({ name: "request_log_created_idx", properties: ["createdAt", "id"] })
@Index({ name: "request_log_operator_created_idx", properties: ["operatorId", "createdAt", "id"] })
@Index({ name: "request_log_api_key_created_idx", properties: ["apiKeyId", "createdAt", "id"] })
export class RequestLog extends BaseEntity<"apiKeyId" | "operatorId" | "affiliateId" | "clientIp" | "operation" | "errorCode"> {
  @Property({ type: "string", length: 128 })
  requestId!: string;

  @Property({ type: "uuid", nullable: true })
  apiKeyId?: string | null;

  @Property({ type: "uuid", nullable: true })
  operatorId?: string | null;

  @Property({ type: "uuid", nullable: true })
  affiliateId?: string | null;

  @Property({ type: "string", length: 64, nullable: true })
  clientIp?: string | null;

  @Property({ type: "string", length: 10 })
  method!: string;

  /** The route pattern (`/postback`, `/click/:campaignId`, `/graphql`). */
  @Property({ type: "string", length: 200 })
  route!: string;

  /** For GraphQL: the operation name, else `<type> <first field>`. */
  @Property({ type: "string", length: 200, nullable: true })
  operation?: string | null;

  @Property({ type: "smallint" })
  status!: number;

  @Property({ type: "string", length: 64, nullable: true })
  errorCode?: string | null;

  @Property({ type: "integer" })
  durationUs!: number;
}
