import { ApiKeyRole } from "../auth/api-key.entity";
import type { Viewer } from "../auth/viewer";
import { ForbiddenError, UnauthenticatedError } from "../common/errors";
import type { TenantRef } from "./topics";

/**
 * What a subscriber may see: everything (admin), one operator's data, or one affiliate's.
 * Live events and state feeds are filtered with it, the same rule the queries apply.
 */
export type TenantScope =
  | { readonly kind: "all" }
  | { readonly kind: "operator"; readonly operatorId: string }
  | { readonly kind: "affiliate"; readonly affiliateId: string };

/** The scope of a viewer's key; a tenant key without its tenant sees nothing (refused). */
export function scopeOf(viewer: Viewer): TenantScope {
  if (viewer.kind !== "key") throw new UnauthenticatedError();
  switch (viewer.role) {
    case ApiKeyRole.ADMIN:
      return { kind: "all" };
    case ApiKeyRole.OPERATOR:
      if (!viewer.operatorId) throw new ForbiddenError("This operator key is not bound to an operator");
      return { kind: "operator", operatorId: viewer.operatorId };
    case ApiKeyRole.AFFILIATE:
      if (!viewer.affiliateId) throw new ForbiddenError("This affiliate key is not bound to an affiliate");
      return { kind: "affiliate", affiliateId: viewer.affiliateId };
    default:
      throw new ForbiddenError("Unknown role");
  }
}

/**
 * Applies a subscription's optional `operatorId` / `affiliateId` arguments: an admin may
 * narrow to any tenant; a tenant key may name only itself (anything else is FORBIDDEN,
 * as in queries) and never widens its scope.
 */
export function narrowScope(viewer: Viewer, filter: TenantRef): { scope: TenantScope; filter: TenantRef } {
  const scope = scopeOf(viewer);
  const operatorId = filter.operatorId ?? null;
  const affiliateId = filter.affiliateId ?? null;
  if (scope.kind === "operator" && operatorId !== null && operatorId !== scope.operatorId) {
    throw new ForbiddenError("An operator key sees only its own operator's data");
  }
  if (scope.kind === "affiliate" && affiliateId !== null && affiliateId !== scope.affiliateId) {
    throw new ForbiddenError("An affiliate key sees only its own data");
  }
  return { scope, filter: { operatorId, affiliateId } };
}

/** Whether an event about `ref` is visible in `scope` and matches the optional filter. */
export function isVisible(scope: TenantScope, ref: TenantRef, filter: TenantRef = {}): boolean {
  const operatorId = ref.operatorId ?? null;
  const affiliateId = ref.affiliateId ?? null;
  if (scope.kind === "operator" && operatorId !== scope.operatorId) return false;
  if (scope.kind === "affiliate" && affiliateId !== scope.affiliateId) return false;
  if (filter.operatorId && operatorId !== filter.operatorId) return false;
  if (filter.affiliateId && affiliateId !== filter.affiliateId) return false;
  return true;
}

/** A stable key per scope, for sharing one state feed among subscribers who see the same thing. */
export function scopeKey(scope: TenantScope): string {
  switch (scope.kind) {
    case "all":
      return "all";
    case "operator":
      return `operator:${scope.operatorId}`;
    case "affiliate":
      return `affiliate:${scope.affiliateId}`;
  }
}
