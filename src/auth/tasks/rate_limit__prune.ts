import type { Task } from "graphile-worker";
import type { Hub } from "../../context";
import { RATE_LIMIT_TABLE } from "../rate-limit";

export const RATE_LIMIT_PRUNE_TASK = "rate_limit__prune";
/** Windows are one minute; an hour's margin keeps any clock skew between processes harmless. */
const KEEP_EXPIRED_MS = 3_600_000;

/** Cron (hourly): removes rate-limit windows that ended over an hour ago. Idempotent. */
export function rateLimitPruneTask(hub: Hub): Task {
  return async () => {
    const { rowCount } = await hub.pool.query(`delete from ${RATE_LIMIT_TABLE} where expire < $1`, [Date.now() - KEEP_EXPIRED_MS]);
    if (rowCount) hub.log.debug({ deleted: rowCount }, "pruned expired rate-limit windows");
  };
}
