import { Logger as WorkerLogger, parseCronItems, run, type CronItem, type TaskList } from "graphile-worker";
import { Counter, Gauge } from "prom-client";
import type { Hub } from "../context";
import { superviseWorker, type WorkerHandle } from "./worker-supervisor";

export type { WorkerHandle } from "./worker-supervisor";

/**
 * graphile-worker reports every successful job at info level, with the whole job row as
 * metadata: one serialised line per webhook delivery, at the delivery rate. Features log
 * their own outcomes, so those lines go to debug; failures keep their level.
 */
export function isJobSuccessReport(level: string, meta: unknown): boolean {
  return level === "info" && typeof meta === "object" && meta !== null && (meta as { success?: unknown }).success === true;
}

function workerLogger(hub: Hub): WorkerLogger {
  const log = hub.log.child({ component: "worker" });
  return new WorkerLogger((scope) => (level, message, meta) => {
    if (isJobSuccessReport(level, meta)) {
      if (log.isLevelEnabled("debug")) log.debug({ ...scope, ...meta }, message);
      return;
    }
    const fields = { ...scope, ...meta };
    if (level === "error") log.error(fields, message);
    else if (level === "warning") log.warn(fields, message);
    else if (level === "info") log.info(fields, message);
    else log.debug(fields, message);
  });
}

function supervisorMetrics(hub: Hub) {
  const registers = [hub.metrics];
  const running = new Gauge({ name: "hub_worker_running", help: "1 while this process's job worker runs", registers });
  const restarts = new Counter({ name: "hub_worker_restarts_total", help: "Times the job worker was restarted after stopping on its own (lost database)", registers });
  return { running: (value: boolean) => running.set(value ? 1 : 0), restarted: () => restarts.inc() };
}

/**
 * The job worker, restarted when it stops on its own (see worker-supervisor.ts).
 * Completions and failures are batched (delay 0: whatever finishes in the same tick)
 * because graphile-worker 0.17 handles a failed completion write only on that path.
 */
export async function startWorker(hub: Hub, tasks: TaskList, cron: readonly CronItem[]): Promise<WorkerHandle> {
  const parsedCronItems = parseCronItems([...cron]);
  const logger = workerLogger(hub);
  return superviseWorker({
    launch: (events) =>
      run({
        pgPool: hub.pool,
        taskList: tasks,
        concurrency: hub.config.workerConcurrency,
        pollInterval: hub.config.workerPollIntervalMs,
        noHandleSignals: true,
        parsedCronItems,
        logger,
        events,
        preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
      }),
    pool: hub.pool,
    log: hub.log,
    metrics: supervisorMetrics(hub),
  });
}
