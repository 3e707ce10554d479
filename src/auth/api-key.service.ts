import type { EntityManager } from "@mikro-orm/postgresql";
import { BadUserInputError, NotFoundError } from "../common/errors";
import { isId } from "../common/ids";
import { findPage, oldestFirstById, type Page } from "../common/pagination";
import { Affiliate } from "../tenants/affiliate.entity";
import { cleanName } from "../tenants/names";
import { Operator } from "../tenants/operator.entity";
import { ApiKey } from "./api-key.entity";
import { displayPrefix, generateApiKey, hashApiKey } from "./api-key-secret";
import { ApiKeyRole, type Viewer } from "../common/viewer";
import { scopeColumns, scopeOf } from "../common/tenant-scope";
import { normalizeCidr } from "../common/ip-ranges";

export const BOOTSTRAP_KEY_NAME = "bootstrap admin";

export interface BootstrapOutcome {
  /** Set only when this start generated a key that nobody has seen yet. */
  generatedSecret: string | undefined;
}

/**
 * HUB_ADMIN_KEY given: make sure an admin key with that secret exists. Otherwise, on a
 * database with no keys at all, create one whose secret is printed once by the caller.
 * Runs under the migration lock, so concurrent first starts create one key, not two.
 */
export async function bootstrapAdminKey(em: EntityManager, configuredSecret: string | undefined): Promise<BootstrapOutcome> {
  if (configuredSecret !== undefined) {
    const keyHash = hashApiKey(configuredSecret);
    const existing = await em.findOne(ApiKey, { keyHash });
    if (!existing) {
      em.create(ApiKey, { name: BOOTSTRAP_KEY_NAME, role: ApiKeyRole.ADMIN, prefix: displayPrefix(configuredSecret), keyHash });
      await em.flush();
    }
    return { generatedSecret: undefined };
  }
  if ((await em.count(ApiKey, {})) > 0) return { generatedSecret: undefined };
  const key = generateApiKey();
  em.create(ApiKey, { name: BOOTSTRAP_KEY_NAME, role: ApiKeyRole.ADMIN, prefix: key.prefix, keyHash: key.hash });
  await em.flush();
  return { generatedSecret: key.secret };
}

export const MAX_ALLOWED_IPS = 100;
export const MAX_RATE_LIMIT_PER_MINUTE = 10_000_000;

export interface CreateApiKeyRequest {
  role: ApiKeyRole;
  operatorId?: string | null;
  affiliateId?: string | null;
  name: string;
  allowedIps?: string[] | null;
  rateLimitPerMinute?: number | null;
}

/** A new key; its secret is returned this once and only its SHA-256 is stored. */
export async function createApiKey(em: EntityManager, request: CreateApiKeyRequest): Promise<{ key: ApiKey; secret: string }> {
  const operatorId = request.operatorId ?? null;
  const affiliateId = request.affiliateId ?? null;
  if (request.role === ApiKeyRole.OPERATOR ? operatorId === null : operatorId !== null) {
    throw new BadUserInputError("operatorId is required for OPERATOR keys and refused for others", { field: "operatorId" });
  }
  if (request.role === ApiKeyRole.AFFILIATE ? affiliateId === null : affiliateId !== null) {
    throw new BadUserInputError("affiliateId is required for AFFILIATE keys and refused for others", { field: "affiliateId" });
  }
  if (operatorId !== null && (!isId(operatorId) || !(await em.count(Operator, { id: operatorId })))) throw new NotFoundError("Operator", operatorId);
  if (affiliateId !== null && (!isId(affiliateId) || !(await em.count(Affiliate, { id: affiliateId })))) throw new NotFoundError("Affiliate", affiliateId);
  const allowedIps = (request.allowedIps ?? []).map((entry) => {
    const cidr = normalizeCidr(entry);
    if (!cidr) throw new BadUserInputError(`allowedIps: ${JSON.stringify(entry.slice(0, 60))} is not an IP address or CIDR`, { field: "allowedIps" });
    return cidr;
  });
  if (allowedIps.length > MAX_ALLOWED_IPS) throw new BadUserInputError(`allowedIps takes at most ${MAX_ALLOWED_IPS} entries`, { field: "allowedIps" });
  const rateLimitPerMinute = request.rateLimitPerMinute ?? null;
  if (rateLimitPerMinute !== null && (!Number.isInteger(rateLimitPerMinute) || rateLimitPerMinute < 1 || rateLimitPerMinute > MAX_RATE_LIMIT_PER_MINUTE)) {
    throw new BadUserInputError(`rateLimitPerMinute must be between 1 and ${MAX_RATE_LIMIT_PER_MINUTE}`, { field: "rateLimitPerMinute" });
  }
  const generated = generateApiKey();
  const key = em.create(ApiKey, {
    name: cleanName(request.name),
    role: request.role,
    operatorId,
    affiliateId,
    allowedIps: [...new Set(allowedIps)],
    rateLimitPerMinute,
    prefix: generated.prefix,
    keyHash: generated.hash,
  });
  await em.persistAndFlush(key);
  return { key, secret: generated.secret };
}

/**
 * Revokes at once: every request looks its key up in the database (no cache), so the
 * next call with this key, in any process, is refused. Revoking twice keeps the first time.
 */
export async function revokeApiKey(em: EntityManager, id: string): Promise<ApiKey> {
  if (!isId(id)) throw new NotFoundError("API key", id);
  await em.nativeUpdate(ApiKey, { id, revokedAt: null }, { revokedAt: new Date() });
  const key = await em.findOne(ApiKey, { id }, { refresh: true });
  if (!key) throw new NotFoundError("API key", id);
  return key;
}

export const API_KEY_LIST = oldestFirstById("apiKeys");

/** Admins see every key; operator and affiliate keys see their own tenant's keys. */
export async function listApiKeys(em: EntityManager, viewer: Viewer, first?: number | null, after?: string | null): Promise<Page<ApiKey>> {
  const scope = scopeColumns(scopeOf(viewer));
  return findPage(
    em,
    ApiKey,
    { ...(scope.operatorId ? { operatorId: scope.operatorId } : {}), ...(scope.affiliateId ? { affiliateId: scope.affiliateId } : {}) },
    API_KEY_LIST,
    { first, after },
  );
}
