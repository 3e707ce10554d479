import type { EntityManager } from "@mikro-orm/postgresql";
import { ApiKey } from "../../src/auth/api-key.entity";
import { generateApiKey } from "../../src/auth/api-key-secret";
import { Affiliate } from "../../src/tenants/affiliate.entity";
import { Operator } from "../../src/tenants/operator.entity";
import { ApiKeyRole } from "../../src/common/viewer";

/** Direct inserts for test setup; the features' own tests go through their services and APIs. */
export async function insertOperator(em: EntityManager, fields: Partial<Operator> = {}): Promise<Operator> {
  const operator = em.create(Operator, { name: `operator ${Math.random().toString(36).slice(2, 8)}`, ...fields });
  await em.persistAndFlush(operator);
  return operator;
}

export async function insertAffiliate(em: EntityManager, fields: Partial<Affiliate> = {}): Promise<Affiliate> {
  const affiliate = em.create(Affiliate, { name: `affiliate ${Math.random().toString(36).slice(2, 8)}`, ...fields });
  await em.persistAndFlush(affiliate);
  return affiliate;
}

/** Creates an API key and returns its secret. */
export async function insertApiKey(
  em: EntityManager,
  scope: { role: ApiKeyRole; operatorId?: string; affiliateId?: string; allowedIps?: string[]; rateLimitPerMinute?: number },
): Promise<{ secret: string; key: ApiKey }> {
  const generated = generateApiKey();
  const key = em.create(ApiKey, {
    name: "test key",
    role: scope.role,
    operatorId: scope.operatorId ?? null,
    affiliateId: scope.affiliateId ?? null,
    allowedIps: scope.allowedIps ?? [],
    rateLimitPerMinute: scope.rateLimitPerMinute ?? null,
    prefix: generated.prefix,
    keyHash: generated.hash,
  });
  await em.persistAndFlush(key);
  return { secret: generated.secret, key };
}
