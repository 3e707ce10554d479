import type { AuthChecker } from "type-graphql";
import { ForbiddenError, UnauthenticatedError } from "../common/errors";
import type { RequestContext } from "../context";

/**
 * `@Authorized()` admits any valid key; `@Authorized("ADMIN")` etc. admits those roles.
 * Tenant scoping (own operator, own affiliate) is the services' job; this is the gate.
 */
export const authChecker: AuthChecker<RequestContext, string> = ({ context }, roles) => {
  const { viewer } = context;
  if (viewer.kind !== "key") throw new UnauthenticatedError();
  if (roles.length > 0 && !roles.includes(viewer.role)) {
    throw new ForbiddenError(`This operation needs one of the roles: ${roles.join(", ")}`);
  }
  return true;
};
