import { ForbiddenError } from "../common/errors";
import { isAdmin, type Viewer } from "../auth/viewer";

/** Whose endpoints a caller sees and manages: all (admin), one operator's, one affiliate's. */
export type EndpointScope =
  | { kind: "all" }
  | { kind: "operator"; operatorId: string }
  | { kind: "affiliate"; affiliateId: string };

export function endpointScope(viewer: Viewer): EndpointScope {
  if (isAdmin(viewer)) return { kind: "all" };
  if (viewer.kind !== "key") throw new ForbiddenError();
  if (viewer.role === "OPERATOR" && viewer.operatorId) return { kind: "operator", operatorId: viewer.operatorId };
  if (viewer.role === "AFFILIATE" && viewer.affiliateId) return { kind: "affiliate", affiliateId: viewer.affiliateId };
  throw new ForbiddenError("This key is not scoped to an operator or affiliate");
}

/** A MikroORM filter on WebhookEndpoint for the scope. */
export function endpointScopeFilter(scope: EndpointScope): { ownerOperatorId?: string; ownerAffiliateId?: string } {
  if (scope.kind === "operator") return { ownerOperatorId: scope.operatorId };
  if (scope.kind === "affiliate") return { ownerAffiliateId: scope.affiliateId };
  return {};
}

/** The SQL condition on an endpoint alias for the scope, with its bindings. */
export function endpointScopeSql(scope: EndpointScope, alias = "e"): { sql: string; params: unknown[] } {
  if (scope.kind === "operator") return { sql: `${alias}.owner_operator_id = ?::uuid`, params: [scope.operatorId] };
  if (scope.kind === "affiliate") return { sql: `${alias}.owner_affiliate_id = ?::uuid`, params: [scope.affiliateId] };
  return { sql: "true", params: [] };
}

/** An event a caller may see: admins all; operators and affiliates those about them. */
export function canSeeEvent(scope: EndpointScope, event: { operatorId?: string | null; affiliateId?: string | null }): boolean {
  if (scope.kind === "all") return true;
  if (scope.kind === "operator") return event.operatorId === scope.operatorId;
  return event.affiliateId === scope.affiliateId;
}
