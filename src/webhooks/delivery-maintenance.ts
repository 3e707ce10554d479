import { hostname } from "node:os";
import type { Hub } from "../context";
import { reconcileAlerts } from "../alerts/alert-monitor";
import { attemptRecorded } from "./attempt-events";
import { requeueStrandedJobs, sweepExpiredLeases, wakeWaitingDeliveries } from "./delivery-sweeper";
import { webhookMetrics } from "./metrics";
import { compactDeliveryCounts, queueStats } from "./queue-stats";

export interface DeliveryMaintenance {
  stop(): Promise<void>;
}

/** Any constant: one process at a time compacts counters and evaluates alerts. */
const MONITOR_LOCK_KEY = 7_426_104;

export function workerName(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * A loop that runs `tick` every `intervalMs` (never overlapping itself) until stopped.
 * Timers in each worker process rather than jobs: a job's worker can be SIGKILLed and its
 * lock then holds for hours, which is exactly what the sweeper exists to survive.
 */
function every(hub: Hub, name: string, intervalMs: number, tick: () => Promise<unknown>) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().then(
        () => undefined,
        (error: unknown) => hub.log.warn({ err: error, loop: name }, "webhook maintenance step failed; will retry"),
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

/**
 * Worker-side upkeep of the delivery queue: crash recovery (expired leases every
 * WEBHOOK_SWEEP_INTERVAL_MS, then lost wake-ups of parked deliveries; jobs stranded before
 * their lease once per lease period) and the queue monitor (counter compaction, then
 * alerts from the fresh queue stats).
 */
export function startDeliveryMaintenance(hub: Hub): DeliveryMaintenance {
  const { config } = hub;
  const metrics = webhookMetrics(hub.metrics);
  const name = workerName();
  const log = hub.log.child({ component: "webhooks" });

  const sweeper = every(hub, "lease sweeper", config.webhooks.sweepIntervalMs, async () => {
    await sweepExpiredLeases(hub.pool, { workerName: name, metrics, log, onAttemptRecorded: (attempt) => attemptRecorded(hub, attempt) });
    await wakeWaitingDeliveries(hub.pool, config.webhooks);
  });
  const stranded = every(hub, "stranded job check", config.webhooks.leaseMs, () => requeueStrandedJobs(hub.pool, config.webhooks.leaseMs, log));
  const monitor = every(hub, "queue monitor", config.queueSampleIntervalMs, () =>
    hub.orm.em.fork().transactional(async (em) => {
      const [lock] = await em.execute<Array<{ locked: boolean }>>("select pg_try_advisory_xact_lock(?) as locked", [MONITOR_LOCK_KEY]);
      if (!lock?.locked) return;
      await compactDeliveryCounts(em);
      const stats = await queueStats(em);
      await reconcileAlerts(em, log, config, stats);
    }),
  );
  return {
    stop: async () => {
      await Promise.all([sweeper.stop(), stranded.stop(), monitor.stop()]);
    },
  };
}
