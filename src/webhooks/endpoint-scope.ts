import type { TenantScope } from "../common/tenant-scope";

/** The endpoints a scope owns, as a MikroORM filter on WebhookEndpoint. */
export function endpointScopeFilter(scope: TenantScope): { ownerOperatorId?: string; ownerAffiliateId?: string } {
  if (scope.kind === "operator") return { ownerOperatorId: scope.operatorId };
  if (scope.kind === "affiliate") return { ownerAffiliateId: scope.affiliateId };
  return {};
}

/** The same condition on an endpoint alias in SQL, with its bindings. */
export function endpointScopeSql(scope: TenantScope, alias = "e"): { sql: string; params: unknown[] } {
  if (scope.kind === "operator") return { sql: `${alias}.owner_operator_id = ?::uuid`, params: [scope.operatorId] };
  if (scope.kind === "affiliate") return { sql: `${alias}.owner_affiliate_id = ?::uuid`, params: [scope.affiliateId] };
  return { sql: "true", params: [] };
}
