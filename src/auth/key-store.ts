import type pg from "pg";
import { hashApiKey } from "./api-key-secret";
import { ApiKeyRole, type Viewer } from "../common/viewer";

/** What a request needs to know about its key, read in one indexed round trip. */
export interface KeyRecord {
  readonly id: string;
  readonly role: ApiKeyRole;
  readonly operatorId: string | null;
  readonly affiliateId: string | null;
  readonly allowedIps: readonly string[];
  readonly rateLimitPerMinute: number | null;
  /** For operator keys: how the operator's postbacks are signed (sealed secrets). */
  readonly operatorSigning: OperatorSigning | null;
}

export interface OperatorSigning {
  readonly requireSignature: boolean;
  readonly postbackSecret: string | null;
  readonly previousPostbackSecret: string | null;
  readonly previousPostbackSecretExpiresAt: Date | null;
}

interface KeyRow {
  id: string;
  role: ApiKeyRole;
  operator_id: string | null;
  affiliate_id: string | null;
  allowed_ips: string[] | null;
  rate_limit_per_minute: number | null;
  revoked_at: Date | null;
  require_signature: boolean | null;
  postback_secret: string | null;
  previous_postback_secret: string | null;
  previous_postback_secret_expires_at: Date | null;
}

/*
 * Not cached on purpose: revocation must stop a key at once, in every process. The
 * lookup is one primary-key-sized index probe on a prepared statement; the operator's
 * signing secrets ride along so the postback path needs no second read.
 */
const LOOKUP = {
  name: "api-key-lookup",
  text: `select k.id, k.role, k.operator_id, k.affiliate_id, k.allowed_ips, k.rate_limit_per_minute, k.revoked_at,
                o.require_signature, o.postback_secret, o.previous_postback_secret, o.previous_postback_secret_expires_at
           from api_key k left join operator o on o.id = k.operator_id
          where k.key_hash = $1`,
};

/** The active key with this secret, or null when it is unknown or revoked. */
export async function lookupActiveKey(pool: pg.Pool, secret: string): Promise<KeyRecord | null> {
  const { rows } = await pool.query<KeyRow>({ ...LOOKUP, values: [hashApiKey(secret)] });
  const row = rows[0];
  if (!row || row.revoked_at) return null;
  return {
    id: row.id,
    role: row.role,
    operatorId: row.operator_id,
    affiliateId: row.affiliate_id,
    allowedIps: row.allowed_ips ?? [],
    rateLimitPerMinute: row.rate_limit_per_minute,
    operatorSigning:
      row.operator_id && row.require_signature !== null
        ? {
            requireSignature: row.require_signature,
            postbackSecret: row.postback_secret,
            previousPostbackSecret: row.previous_postback_secret,
            previousPostbackSecretExpiresAt: row.previous_postback_secret_expires_at,
          }
        : null,
  };
}

export function viewerOfRecord(key: KeyRecord): Viewer {
  return { kind: "key", apiKeyId: key.id, role: key.role, operatorId: key.operatorId, affiliateId: key.affiliateId };
}
