import { Logger as WorkerLogger, run, type Runner, type TaskList } from "graphile-worker";
import type { Hub } from "../context";
import { collectCronItems } from "./tasks";

export interface WorkerHandle {
  isRunning(): boolean;
  stop(): Promise<void>;
}

function workerLogger(hub: Hub): WorkerLogger {
  const log = hub.log.child({ component: "worker" });
  return new WorkerLogger((scope) => (level, message, meta) => {
    const fields = { ...scope, ...meta };
    if (level === "error") log.error(fields, message);
    else if (level === "warning") log.warn(fields, message);
    else if (level === "info") log.info(fields, message);
    else log.debug(fields, message);
  });
}

export async function startWorker(hub: Hub, tasks: TaskList): Promise<WorkerHandle> {
  const runner: Runner = await run({
    pgPool: hub.pool,
    taskList: tasks,
    concurrency: hub.config.workerConcurrency,
    pollInterval: hub.config.workerPollIntervalMs,
    noHandleSignals: true,
    parsedCronItems: collectCronItems(),
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
