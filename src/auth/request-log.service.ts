import type { FilterQuery } from "@mikro-orm/core";
import { BadUserInputError } from "../common/errors";
import { isId } from "../common/ids";
import { findPage, newestFirst, type Page } from "../common/pagination";
import type { RequestContext } from "../context";
import { namedSql, sqlRows } from "../db/sql";
import { RequestLog } from "./request-log.entity";
import type { RequestLogFilter } from "./request-log.types";
import { scopedFilter } from "../common/tenant-scope";

export const REQUEST_LOG_LIST = newestFirst("requestLog");

/** Admins read every entry; an operator key its own operator's. Newest first. */
export async function listRequestLog(ctx: RequestContext, filter: RequestLogFilter, first?: number | null, after?: string | null): Promise<Page<RequestLog>> {
  for (const field of ["apiKeyId", "operatorId"] as const) {
    const value = filter[field];
    if (value && !isId(value)) throw new BadUserInputError(`${field} must be an id`, { field });
  }
  const scope = scopedFilter(ctx.viewer, { operatorId: filter.operatorId });
  const conditions: Array<FilterQuery<RequestLog>> = [];
  if (scope.operatorId) conditions.push({ operatorId: scope.operatorId });
  if (filter.apiKeyId) conditions.push({ apiKeyId: filter.apiKeyId });
  if (filter.route) conditions.push({ route: filter.route });
  if (filter.status) conditions.push({ status: filter.status });
  if (filter.errorCode) conditions.push({ errorCode: filter.errorCode });
  if (filter.failed === true) conditions.push({ errorCode: { $ne: null } });
  if (filter.failed === false) conditions.push({ errorCode: null });
  if (filter.from) conditions.push({ createdAt: { $gte: filter.from } });
  if (filter.to) conditions.push({ createdAt: { $lt: filter.to } });
  return findPage(ctx.em, RequestLog, { $and: conditions }, REQUEST_LOG_LIST, { first, after });
}

/** Rows per DELETE: bounded, so pruning a big backlog never holds long locks or bloats one transaction. */
const PRUNE_BATCH = 10_000;

const PRUNE = namedSql(`
  with deleted as (
    delete from request_log
     where id in (select id from request_log where created_at < :before order by created_at limit ${PRUNE_BATCH})
    returning 1
  )
  select count(*)::int as deleted from deleted`);

/** Deletes entries older than the cutoff, batch by batch; returns how many went. */
export async function pruneRequestLog(ctx: Pick<RequestContext, "em">, before: Date): Promise<number> {
  let total = 0;
  while (true) {
    const [row] = await sqlRows<{ deleted: number }>(ctx.em, PRUNE, { before });
    const deleted = row?.deleted ?? 0;
    total += deleted;
    if (deleted < PRUNE_BATCH) return total;
  }
}
