import type { Task } from "graphile-worker";
import { createRequestContext, type Hub } from "../../context";
import { pruneRequestLog } from "../request-log.service";
import { ANONYMOUS } from "../../common/viewer";

export const REQUEST_LOG_PRUNE_TASK = "request_log__prune";
const DAY_MS = 86_400_000;

/** Cron (hourly): deletes request-log entries older than REQUEST_LOG_RETENTION_DAYS. Idempotent. */
export function requestLogPruneTask(hub: Hub): Task {
  return async (_payload, helpers) => {
    const ctx = createRequestContext(hub, ANONYMOUS, `job:${helpers.job.id}`);
    const before = new Date(Date.now() - hub.config.requestLogRetentionDays * DAY_MS);
    const deleted = await pruneRequestLog(ctx, before);
    if (deleted > 0) ctx.log.info({ deleted, before }, "pruned the request log");
  };
}
