import { Logger as WorkerLogger, parseCronItems, run, type CronItem, type Runner, type TaskList } from "graphile-worker";
import type { Hub } from "../context";

export interface WorkerHandle {
  isRunning(): boolean;
  stop(): Promise<void>;
}

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

/**
 * Cron items go through graphile-worker's cron: each is enqueued at most once per slot
 * across all worker processes (its known_crontabs table).
 */
export async function startWorker(hub: Hub, tasks: TaskList, cron: readonly CronItem[]): Promise<WorkerHandle> {
  const runner: Runner = await run({
    pgPool: hub.pool,
    taskList: tasks,
    concurrency: hub.config.workerConcurrency,
    pollInterval: hub.config.workerPollIntervalMs,
    noHandleSignals: true,
    parsedCronItems: parseCronItems([...cron]),
    logger: workerLogger(hub),
  });
  let running = true;
  runner.promise.then(
    () => (running = false),
    (error: unknown) => {
      running = false;
      hub.log.error({ err: error }, "job worker stopped with an error");
    },
  );
  return {
    isRunning: () => running,
    stop: async () => {
      if (running) await runner.stop();
    },
  };
}
