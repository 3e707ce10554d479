import { Entity, Property } from "@mikro-orm/core";
import { BaseEntity } from "../db/base.entity";

/** A brand whose systems integrate: sends postbacks, owns keys, secrets and connectors. */
@Entity({ tableName: "operator" })
export class Operator extends BaseEntity<
  "requireSignature" | "postbackSecret" | "previousPostbackSecret" | "previousPostbackSecretExpiresAt" | "postbackSecretRotatedAt"
> {
  @Property({ type: "string", length: 200 })
  name!: string;

  @Property({ type: "boolean", default: true })
  requireSignature: boolean = true;

  /** HMAC secret for inbound postbacks, sealed with the hub's SecretBox (never stored in clear). */
  @Property({ type: "text", nullable: true })
  postbackSecret?: string | null;

  /** The secret before the last rotation, still accepted until previousPostbackSecretExpiresAt. */
  @Property({ type: "text", nullable: true })
  previousPostbackSecret?: string | null;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  previousPostbackSecretExpiresAt?: Date | null;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  postbackSecretRotatedAt?: Date | null;
}
