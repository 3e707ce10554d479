import { parseCronItems, type ParsedCronItem, type TaskList } from "graphile-worker";
import type { Hub } from "../context";
import { liveTasks } from "../live/tasks";
import { webhookTasks } from "../webhooks/tasks";
import { RATE_LIMIT_PRUNE_TASK, rateLimitPruneTask } from "../auth/tasks/rate_limit__prune";
import { REQUEST_LOG_PRUNE_TASK, requestLogPruneTask } from "../auth/tasks/request_log__prune";

/** Each feature contributes `<table>__<verb>` tasks here; the worker runs exactly this list. */
export function collectTasks(hub: Hub): TaskList {
  return {
    ...liveTasks(hub),
    ...webhookTasks(hub),
    [REQUEST_LOG_PRUNE_TASK]: requestLogPruneTask(hub),
    [RATE_LIMIT_PRUNE_TASK]: rateLimitPruneTask(hub),
  };
}

/**
 * Scheduled jobs. graphile-worker's cron enqueues each at most once per slot across all
 * worker processes (its known_crontabs table), and with no backfill a worker that was
 * down does not replay missed hours: the next run catches up anyway.
 */
export function collectCronItems(): ParsedCronItem[] {
  return parseCronItems([
    { task: REQUEST_LOG_PRUNE_TASK, match: "17 * * * *", identifier: REQUEST_LOG_PRUNE_TASK, options: { backfillPeriod: 0, maxAttempts: 3 } },
    { task: RATE_LIMIT_PRUNE_TASK, match: "23 * * * *", identifier: RATE_LIMIT_PRUNE_TASK, options: { backfillPeriod: 0, maxAttempts: 3 } },
  ]);
}
