import { Entity, PrimaryKey, Property } from "@mikro-orm/core";

/**
 * The table rate-limiter-flexible's Postgres store uses, in exactly its shape (key,
 * points, expire in epoch ms). Declared here so a migration creates it once, rather than
 * every process racing to CREATE TABLE at start. Only the library reads and writes it.
 */
@Entity({ tableName: "rate_limit" })
export class RateLimitBucket {
  @PrimaryKey({ type: "string", length: 255 })
  key!: string;

  @Property({ type: "integer", default: 0 })
  points!: number;

  @Property({ type: "bigint", nullable: true })
  expire?: string | null;
}
