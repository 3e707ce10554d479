import { Entity, Enum, Index, ManyToOne, Property } from "@mikro-orm/core";
import { BaseEntity } from "../db/base.entity";
import { Affiliate } from "../tenants/affiliate.entity";
import { Operator } from "../tenants/operator.entity";

export enum WebhookFormat {
  /** POST of signed JSON (Standard Webhooks). */
  STANDARD_WEBHOOK = "STANDARD_WEBHOOK",
  /** GET of a URL template with macros, for affiliate trackers; conversion events only. */
  POSTBACK_URL = "POSTBACK_URL",
}

export enum EndpointDisabledReason {
  /** Someone disabled it. */
  MANUAL = "MANUAL",
  /** The receiver answered 410 Gone. */
  GONE = "GONE",
  /** It failed continuously for WEBHOOK_DISABLE_AFTER_HOURS. */
  FAILING = "FAILING",
}

/**
 * Where events go. Ownership routes them: an operator's endpoint gets that operator's
 * events, an affiliate's endpoint the events about that affiliate, an unowned (admin)
 * endpoint everything its filter matches.
 */
@Entity({ tableName: "webhook_endpoint" })
@Index({ name: "webhook_endpoint_owner_operator_idx", properties: ["ownerOperatorId"] })
@Index({ name: "webhook_endpoint_owner_affiliate_idx", properties: ["ownerAffiliateId"] })
export class WebhookEndpoint extends BaseEntity<
  | "description" | "format" | "eventTypes" | "ownerOperatorId" | "ownerAffiliateId" | "rateLimitPerSecond" | "maxInFlight" | "enabled"
  | "disabledAt" | "disabledReason" | "previousSecretSealed" | "previousSecretExpiresAt" | "failingSince" | "rateNextSlotAt"
  | "updatedAt" | "secretCreatedAt"
> {
  /** For POSTBACK_URL endpoints, the URL template with macros. */
  @Property({ type: "text" })
  url!: string;

  @Property({ type: "string", length: 500, nullable: true })
  description?: string | null;

  @Enum({ items: () => WebhookFormat, default: WebhookFormat.STANDARD_WEBHOOK })
  format: WebhookFormat = WebhookFormat.STANDARD_WEBHOOK;

  /** Empty: every event type. */
  @Property({ type: "array", columnType: "text[]", default: "{}" })
  eventTypes: string[] = [];

  @ManyToOne(() => Operator, { nullable: true, deleteRule: "cascade", mapToPk: true, fieldName: "owner_operator_id" })
  ownerOperatorId?: string | null;

  @ManyToOne(() => Affiliate, { nullable: true, deleteRule: "cascade", mapToPk: true, fieldName: "owner_affiliate_id" })
  ownerAffiliateId?: string | null;

  @Property({ type: "integer", nullable: true })
  rateLimitPerSecond?: number | null;

  /**
   * Attempts in flight at once across every worker process; null: the hub's
   * WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT. Keeps one slow receiver from taking every worker slot.
   */
  @Property({ type: "integer", nullable: true })
  maxInFlight?: number | null;

  @Property({ type: "boolean", default: true })
  enabled: boolean = true;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  disabledAt?: Date | null;

  @Enum({ items: () => EndpointDisabledReason, nullable: true })
  disabledReason?: EndpointDisabledReason | null;

  /** The signing secret, sealed with the hub's SecretBox. */
  @Property({ type: "text", lazy: true })
  secretSealed!: string;

  @Property({ type: "datetime", columnType: "timestamptz" })
  secretCreatedAt: Date = new Date();

  /** During a rotation's grace period the previous secret signs too. */
  @Property({ type: "text", nullable: true, lazy: true })
  previousSecretSealed?: string | null;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  previousSecretExpiresAt?: Date | null;

  /** Start of the current run of failed attempts; null after a success. */
  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  failingSince?: Date | null;

  /** Rate limiting: the next free send slot, shared by every worker process. */
  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  rateNextSlotAt?: Date | null;

  @Property({ type: "datetime", columnType: "timestamptz", onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
