import { BadUserInputError, NotFoundError } from "../common/errors";
import { isId } from "../common/ids";
import { findPage, oldestFirstById, type Page } from "../common/pagination";
import type { RequestContext } from "../context";
import { namedSql, sqlRows } from "../db/sql";
import { cleanName } from "./names";
import { Operator } from "./operator.entity";
import { generatePostbackSecret } from "./postback-secret";
import { scopeColumns, scopeOf } from "../common/tenant-scope";

export const DEFAULT_GRACE_PERIOD_HOURS = 24;
export const MAX_GRACE_PERIOD_HOURS = 24 * 30;
const ROTATE = namedSql(`
  update operator
     set previous_postback_secret = postback_secret,
         previous_postback_secret_expires_at = case when postback_secret is null then null else :grace_ends::timestamptz end,
         postback_secret = :secret, postback_secret_rotated_at = :now
   where id = :operator_id
  returning id`);

export interface OperatorWithPlainSecret {
  operator: Operator;
  postbackSecret: string;
}

/** A new operator and its postback signing secret; the secret is stored sealed and returned this once. */
export async function createOperator(ctx: RequestContext, input: { name: string; requireSignature: boolean }): Promise<OperatorWithPlainSecret> {
  const postbackSecret = generatePostbackSecret();
  const operator = ctx.em.create(Operator, {
    name: cleanName(input.name),
    requireSignature: input.requireSignature,
    postbackSecret: ctx.hub.secrets.seal(postbackSecret),
  });
  await ctx.em.persistAndFlush(operator);
  ctx.log.info({ operatorId: operator.id }, "operator created");
  return { operator, postbackSecret };
}

/**
 * Replaces the postback secret; the old one stays valid for the grace period so the
 * operator can deploy the new one without losing postbacks. One UPDATE, so concurrent
 * rotations cannot interleave (the later one keeps the earlier's secret as previous).
 */
export async function rotatePostbackSecret(ctx: RequestContext, operatorId: string, gracePeriodHours: number): Promise<OperatorWithPlainSecret> {
  if (!Number.isFinite(gracePeriodHours) || gracePeriodHours < 0 || gracePeriodHours > MAX_GRACE_PERIOD_HOURS) {
    throw new BadUserInputError(`gracePeriodHours must be between 0 and ${MAX_GRACE_PERIOD_HOURS}`, { field: "gracePeriodHours" });
  }
  if (!isId(operatorId)) throw new NotFoundError("Operator", operatorId);
  const postbackSecret = generatePostbackSecret();
  const now = new Date();
  const graceEnds = new Date(now.getTime() + gracePeriodHours * 3_600_000);
  const rows = await sqlRows<{ id: string }>(ctx.em, ROTATE, {
    grace_ends: graceEnds,
    secret: ctx.hub.secrets.seal(postbackSecret),
    now,
    operator_id: operatorId,
  });
  if (rows.length === 0) throw new NotFoundError("Operator", operatorId);
  const operator = await ctx.em.findOneOrFail(Operator, { id: operatorId }, { refresh: true });
  ctx.log.info({ operatorId, gracePeriodHours }, "postback secret rotated");
  return { operator, postbackSecret };
}

export const OPERATOR_LIST = oldestFirstById("operators");

/** Admins see every operator; an operator key its own; affiliate keys none (refused by the resolver). */
export async function listOperators(ctx: RequestContext, first?: number | null, after?: string | null): Promise<Page<Operator>> {
  const scope = scopeColumns(scopeOf(ctx.viewer));
  return findPage(ctx.em, Operator, scope.operatorId ? { id: scope.operatorId } : {}, OPERATOR_LIST, { first, after });
}
