import { EventEmitter } from "node:events";
import type { Runner, WorkerEvents } from "graphile-worker";
import type pg from "pg";
import type { Logger } from "../common/logger";
import { backoffDelay, type BackoffPolicy } from "../live/backoff";

export interface WorkerHandle {
  /** False while the runner is down (it lost the database) or cannot fetch jobs, and until a new one runs. */
  isRunning(): boolean;
  stop(): Promise<void>;
}

export interface WorkerSupervisorDeps {
  /** Starts one graphile-worker runner that reports on `events`. */
  launch(events: WorkerEvents): Promise<Runner>;
  /** The runner's pool: asked whether the database answers, and used to release a dead runner's jobs. */
  pool: pg.Pool;
  log: Logger;
  metrics?: { running(value: boolean): void; restarted(): void };
  backoff?: BackoffPolicy;
}

/** Retry quickly after a blip; a restart attempt costs one `select 1`, so the ceiling can stay low. */
export const WORKER_RESTART_BACKOFF: BackoffPolicy = Object.freeze({ baseMs: 200, maxMs: 2_000 });

/**
 * graphile-worker locks a job with its worker pool's id and keeps the lock for four
 * hours unless that pool completes or fails the job. A pool that stopped because it could
 * not write a completion or failure leaves such jobs behind; nobody runs that pool id
 * again, so releasing them is safe once its workers are idle. Their tasks are safe to run twice.
 */
const RELEASE_JOBS_OF_POOLS = "select graphile_worker.force_unlock_workers($1::text[])";

/** Events after which a pool runs no task any more (emitted before its final clean-up). */
const POOL_IDLE_EVENTS = ["pool:gracefulShutdown:complete", "pool:forcefulShutdown:complete", "pool:forcefulShutdown:error"] as const;

/** How often a runner that cannot fetch jobs checks whether the database answers again. */
const FETCH_PROBE_INTERVAL_MS = 500;

/** How long an idle, stopping pool may take to write its last completions before shutdown moves on. */
const FINAL_WRITES_GRACE_MS = 5_000;

interface Launched {
  runner: Runner;
  /** Settles once the runner's pool runs no task any more. */
  idle: Promise<void>;
}

/**
 * Keeps one graphile-worker runner going for the life of the process.
 *
 * graphile-worker shuts its pool down when it cannot record a job's completion or failure
 * (the database connection went away), and then stays down. Here a pool that stops
 * without being asked to is replaced: once its workers are idle, wait (with backoff) until
 * the database answers, release the jobs the stopped pool still holds, start a new runner.
 * `stop()` works in every state, including while waiting for the database.
 *
 * The runner must be launched with completion and failure batching on
 * (`completeJobBatchDelay`/`failJobBatchDelay` >= 0): only on that path does graphile-worker
 * 0.17 handle a failed completion (by shutting the pool down); without batching the
 * failed write is a promise nobody awaits, an unhandled rejection that ends the process.
 * On that path, though, a pool whose batcher once failed may never finish its final
 * clean-up (its pending count drifts), so `runner.promise` may never settle: the pool's
 * own events, not that promise, say when it is idle.
 */
export async function superviseWorker(deps: WorkerSupervisorDeps): Promise<WorkerHandle> {
  const log = deps.log.child({ component: "worker-supervisor" });
  const policy = deps.backoff ?? WORKER_RESTART_BACKOFF;
  let current: Launched | undefined;
  let running = false;
  let stopping = false;
  let failures = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let restarting: Promise<void> | undefined;
  /** Pool ids of stopped runners whose jobs are not yet released. */
  const orphanedPools = new Set<string>();

  const setRunning = (value: boolean) => {
    running = value;
    deps.metrics?.running(value);
  };

  const launch = async (): Promise<void> => {
    const events: WorkerEvents = new EventEmitter();
    const poolIds: string[] = [];
    let launched: Launched | undefined = undefined; // set once deps.launch() returns; the handlers below may fire before
    let markIdle!: () => void;
    const idle = new Promise<void>((resolve) => (markIdle = resolve));
    let retiredFor: string | undefined;

    const retire = (reason: string) => {
      if (retiredFor !== undefined) return;
      retiredFor = reason;
      markIdle();
      poolIds.forEach((id) => orphanedPools.add(id));
      if (launched !== undefined) replace(launched, reason);
    };
    const replace = (stopped: Launched, reason: string) => {
      if (current !== stopped) return;
      current = undefined;
      setRunning(false);
      if (stopping) return;
      log.error({ reason, pools: poolIds }, "job worker stopped on its own; restarting once the database answers");
      // Its cron must stop too; stop() refuses a runner that is already stopping, which is fine.
      stopped.runner.stop().catch((error: unknown) => log.debug({ err: error }, "stopped runner was already stopping"));
      scheduleRestart();
    };

    events.on("pool:create", ({ workerPool }) => poolIds.push(workerPool.id));
    // Going down on its own (not by our stop()): not ready from this moment.
    events.on("pool:gracefulShutdown", ({ message }) => {
      if (!stopping && launched !== undefined && current === launched) {
        setRunning(false);
        log.warn({ reason: message }, "job worker is shutting down on its own");
      }
    });
    for (const event of POOL_IDLE_EVENTS) events.on(event, () => retire(event));
    // A runner that cannot fetch jobs is not doing its work: not ready until a fetch succeeds
    // again (it may never stop on its own if no job was running when the database went away).
    const isCurrent = () => launched !== undefined && current === launched;
    const stillCannotFetch = () => isCurrent() && !running && retiredFor === undefined && !stopping;
    // Its workers retry only every poll interval: ready again as soon as the database answers.
    let probing = false;
    const probeDatabase = async () => {
      if (probing) return;
      probing = true;
      try {
        while (stillCannotFetch()) {
          try {
            await deps.pool.query("select 1");
            if (stillCannotFetch()) setRunning(true);
            return;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, FETCH_PROBE_INTERVAL_MS).unref());
          }
        }
      } finally {
        probing = false;
      }
    };
    events.on("worker:getJob:error", () => {
      if (isCurrent() && running && !stopping) {
        setRunning(false);
        log.warn("job worker cannot fetch jobs: the database is unreachable");
        void probeDatabase();
      }
    });
    for (const event of ["worker:getJob:empty", "job:start"] as const) {
      events.on(event, () => {
        if (isCurrent() && !running && retiredFor === undefined) setRunning(true);
      });
    }

    const runner = await deps.launch(events);
    launched = { runner, idle };
    current = launched;
    setRunning(true);
    if (retiredFor !== undefined) replace(launched, retiredFor); // it stopped before launch() returned
    runner.promise.then(
      () => retire("runner finished"),
      (error: unknown) => retire(`runner failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  };

  const scheduleRestart = () => {
    const delayMs = backoffDelay(failures++, policy);
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      restarting = restart().finally(() => (restarting = undefined));
    }, delayMs);
  };

  const restart = async (): Promise<void> => {
    try {
      await deps.pool.query("select 1");
      if (orphanedPools.size > 0) {
        const pools = [...orphanedPools];
        await deps.pool.query(RELEASE_JOBS_OF_POOLS, [pools]);
        pools.forEach((id) => orphanedPools.delete(id));
        log.info({ pools }, "released the jobs a stopped job worker held");
      }
      if (stopping) return;
      await launch();
    } catch (error: unknown) {
      if (stopping) return;
      log.warn({ err: error, attempt: failures }, "job worker cannot restart yet; retrying");
      scheduleRestart();
      return;
    }
    failures = 0;
    deps.metrics?.restarted();
    log.info("job worker restarted");
  };

  await launch();
  return {
    isRunning: () => running,
    stop: async () => {
      stopping = true;
      clearTimeout(restartTimer);
      await restarting;
      const stopped = current;
      if (!stopped) return;
      // A healthy runner's stop() waits for its jobs and writes their completions; one
      // already going down on its own resolves at once, and then its idleness is awaited.
      // If the database goes away during the stop, the final clean-up may never finish
      // (see above): once the pool is idle it gets a bounded time for its last writes.
      const runnerStopped = stopped.runner.stop().catch((error: unknown) => log.warn({ err: error }, "job worker was already stopping"));
      let grace: NodeJS.Timeout | undefined;
      const idleAndGraceOver = stopped.idle.then(() => new Promise<void>((resolve) => (grace = setTimeout(resolve, FINAL_WRITES_GRACE_MS))));
      await Promise.race([runnerStopped.then(() => stopped.idle), idleAndGraceOver]);
      clearTimeout(grace);
    },
  };
}
