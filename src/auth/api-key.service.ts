import type { EntityManager } from "@mikro-orm/postgresql";
import { ApiKey, ApiKeyRole } from "./api-key.entity";
import { displayPrefix, generateApiKey, hashApiKey } from "./api-key-secret";
import type { Viewer } from "./viewer";

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

export async function findActiveKey(em: EntityManager, secret: string): Promise<ApiKey | null> {
  const key = await em.findOne(ApiKey, { keyHash: hashApiKey(secret) });
  return key && !key.revokedAt ? key : null;
}

export function viewerOf(key: ApiKey): Viewer {
  return {
    kind: "key",
    apiKeyId: key.id,
    role: key.role,
    operatorId: key.operatorId ?? null,
    affiliateId: key.affiliateId ?? null,
  };
}
