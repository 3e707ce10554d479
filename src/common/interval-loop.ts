import type { Logger } from "./logger";

export interface IntervalLoop {
  stop(): Promise<void>;
}

/**
 * Runs `tick` every `intervalMs` (never overlapping itself) until stopped; a failed tick is
 * logged and tried again next interval. Timers in each worker process rather than jobs: a
 * job's worker can be SIGKILLed and its lock then holds for hours, which is exactly what
 * the sweepers exist to survive.
 */
export function everyInterval(log: Logger, name: string, intervalMs: number, tick: () => Promise<unknown>): IntervalLoop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().then(
        () => undefined,
        (error: unknown) => log.warn({ err: error, loop: name }, `${name} failed; will retry`),
      ).finally(() => {
        running = undefined;
        schedule();
      });
    }, intervalMs);
  };
  schedule();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** `pg_try_advisory_xact_lock`: one process at a time runs what follows in its transaction. */
export const TRY_XACT_LOCK_SQL = "select pg_try_advisory_xact_lock(?) as locked";
