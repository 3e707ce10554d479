import { ForbiddenError, UnauthenticatedError } from "../common/errors";
import { ApiKeyRole } from "./api-key.entity";
import type { Viewer } from "./viewer";

export type KeyViewer = Extract<Viewer, { kind: "key" }>;

/** The tenant a viewer is confined to: admins none, operator and affiliate keys their own. */
export interface TenantScope {
  operatorId?: string;
  affiliateId?: string;
}

export function keyViewer(viewer: Viewer): KeyViewer {
  if (viewer.kind !== "key") throw new UnauthenticatedError();
  return viewer;
}

export function tenantScope(viewer: Viewer): TenantScope {
  const key = keyViewer(viewer);
  switch (key.role) {
    case ApiKeyRole.ADMIN:
      return {};
    case ApiKeyRole.OPERATOR:
      if (!key.operatorId) throw new ForbiddenError("This operator key has no operator");
      return { operatorId: key.operatorId };
    case ApiKeyRole.AFFILIATE:
      if (!key.affiliateId) throw new ForbiddenError("This affiliate key has no affiliate");
      return { affiliateId: key.affiliateId };
  }
}

/**
 * Merges a caller's filter with its scope: asking for another tenant's data is refused
 * outright (FORBIDDEN) rather than silently answered with nothing.
 */
export function scopedFilter(viewer: Viewer, requested: { operatorId?: string | null; affiliateId?: string | null }): TenantScope {
  const scope = tenantScope(viewer);
  if (scope.operatorId && requested.operatorId && requested.operatorId !== scope.operatorId) {
    throw new ForbiddenError("An operator key can only read its own operator's data");
  }
  if (scope.affiliateId && requested.affiliateId && requested.affiliateId !== scope.affiliateId) {
    throw new ForbiddenError("An affiliate key can only read its own affiliate's data");
  }
  return {
    ...(scope.operatorId ?? requested.operatorId ? { operatorId: (scope.operatorId ?? requested.operatorId)! } : {}),
    ...(scope.affiliateId ?? requested.affiliateId ? { affiliateId: (scope.affiliateId ?? requested.affiliateId)! } : {}),
  };
}

/** For writes on behalf of an operator: admins may act for any, operator keys for their own only. */
export function assertActsForOperator(viewer: Viewer, operatorId: string): void {
  const scope = tenantScope(viewer);
  if (scope.affiliateId !== undefined || (scope.operatorId !== undefined && scope.operatorId !== operatorId)) {
    throw new ForbiddenError("This key cannot act for that operator");
  }
}
