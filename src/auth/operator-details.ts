import { UseMiddleware, type MiddlewareFn } from "type-graphql";
import type { RequestContext } from "../context";
import { ApiKeyRole, type Viewer } from "../common/viewer";

/**
 * Whether a viewer may read an operator's request details (raw request, signature,
 * client IPs, API key ids): admins, and that operator's own keys.
 */
export function seesOperatorDetails(viewer: Viewer, operatorId: string | null | undefined): boolean {
  if (viewer.kind !== "key") return false;
  if (viewer.role === ApiKeyRole.ADMIN) return true;
  return viewer.role === ApiKeyRole.OPERATOR && !!operatorId && viewer.operatorId === operatorId;
}

/**
 * On an object type's field: admins and the owning operator read it, every other key
 * (an affiliate looking at a conversion attributed to it) reads null. Null rather than a
 * FORBIDDEN error, so a list selected with a shared fragment still comes back whole: an
 * error on a non-null field would null out its parent, and with it every node of the page.
 * The field must be nullable, and its description should say who sees it.
 */
export function OwningOperatorOnly<Root>(operatorOf: (root: Root) => string | null | undefined): PropertyDecorator & MethodDecorator {
  const onlyForOwner: MiddlewareFn<RequestContext> = ({ root, context }, next) =>
    seesOperatorDetails(context.viewer, operatorOf(root as Root)) ? next() : Promise.resolve(null);
  return UseMiddleware(onlyForOwner);
}
