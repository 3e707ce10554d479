import { ForbiddenError, UnauthenticatedError } from "./errors";
import { ApiKeyRole, type KeyViewer, type Viewer } from "./viewer";

/**
 * The one tenant rule: an admin key sees everything, an operator key one operator's data,
 * an affiliate key one affiliate's. Queries, mutations, live events and state feeds all
 * ask this module, so the rule exists once.
 */
export type TenantScope =
  | { readonly kind: "all" }
  | { readonly kind: "operator"; readonly operatorId: string }
  | { readonly kind: "affiliate"; readonly affiliateId: string };

/** The tenant fields of a row or an event: who it is about. */
export interface TenantRef {
  operatorId?: string | null;
  affiliateId?: string | null;
}

/** Tenant columns to filter on; empty for "all". */
export interface TenantColumns {
  operatorId?: string;
  affiliateId?: string;
}

export function keyViewer(viewer: Viewer): KeyViewer {
  if (viewer.kind !== "key") throw new UnauthenticatedError();
  return viewer;
}

/** The scope of a viewer's key; a tenant key without its tenant sees nothing (refused). */
export function scopeOf(viewer: Viewer): TenantScope {
  const key = keyViewer(viewer);
  switch (key.role) {
    case ApiKeyRole.ADMIN:
      return { kind: "all" };
    case ApiKeyRole.OPERATOR:
      if (!key.operatorId) throw new ForbiddenError("This operator key is not bound to an operator");
      return { kind: "operator", operatorId: key.operatorId };
    case ApiKeyRole.AFFILIATE:
      if (!key.affiliateId) throw new ForbiddenError("This affiliate key is not bound to an affiliate");
      return { kind: "affiliate", affiliateId: key.affiliateId };
    default:
      throw new ForbiddenError("Unknown role");
  }
}

export function scopeColumns(scope: TenantScope): TenantColumns {
  if (scope.kind === "operator") return { operatorId: scope.operatorId };
  if (scope.kind === "affiliate") return { affiliateId: scope.affiliateId };
  return {};
}

/**
 * Applies a caller's optional `operatorId` / `affiliateId` arguments: an admin may narrow
 * to any tenant; a tenant key may name only itself (anything else is FORBIDDEN, rather
 * than silently answered with nothing) and never widens its scope.
 */
export function narrowScope(viewer: Viewer, requested: TenantRef): { scope: TenantScope; filter: TenantRef } {
  const scope = scopeOf(viewer);
  const operatorId = requested.operatorId ?? null;
  const affiliateId = requested.affiliateId ?? null;
  if (scope.kind === "operator" && operatorId !== null && operatorId !== scope.operatorId) {
    throw new ForbiddenError("An operator key can only read its own operator's data");
  }
  if (scope.kind === "affiliate" && affiliateId !== null && affiliateId !== scope.affiliateId) {
    throw new ForbiddenError("An affiliate key can only read its own affiliate's data");
  }
  return { scope, filter: { operatorId, affiliateId } };
}

/** The columns a query filters on: the viewer's scope merged with what it asked for. */
export function scopedFilter(viewer: Viewer, requested: TenantRef): TenantColumns {
  const { scope, filter } = narrowScope(viewer, requested);
  const columns = scopeColumns(scope);
  const operatorId = columns.operatorId ?? filter.operatorId;
  const affiliateId = columns.affiliateId ?? filter.affiliateId;
  return { ...(operatorId ? { operatorId } : {}), ...(affiliateId ? { affiliateId } : {}) };
}

/** Whether something about `ref` is visible in `scope` and matches the optional filter. */
export function isVisible(scope: TenantScope, ref: TenantRef, filter: TenantRef = {}): boolean {
  const operatorId = ref.operatorId ?? null;
  const affiliateId = ref.affiliateId ?? null;
  if (scope.kind === "operator" && operatorId !== scope.operatorId) return false;
  if (scope.kind === "affiliate" && affiliateId !== scope.affiliateId) return false;
  if (filter.operatorId && operatorId !== filter.operatorId) return false;
  if (filter.affiliateId && affiliateId !== filter.affiliateId) return false;
  return true;
}

/** For writes on behalf of an operator: admins may act for any, operator keys for their own only. */
export function assertActsForOperator(viewer: Viewer, operatorId: string): void {
  const scope = scopeOf(viewer);
  if (scope.kind === "affiliate" || (scope.kind === "operator" && scope.operatorId !== operatorId)) {
    throw new ForbiddenError("This key cannot act for that operator");
  }
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
