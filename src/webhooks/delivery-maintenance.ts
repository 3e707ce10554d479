import { hostname } from "node:os";
import type { Hub } from "../context";
import { everyInterval, TRY_XACT_LOCK_SQL } from "../common/interval-loop";
import { attemptRecorded } from "./attempt-events";
import { requeueStrandedJobs, sweepExpiredLeases, wakeWaitingDeliveries } from "./delivery-sweeper";
import { webhookMetrics } from "./metrics";
import { compactDeliveryCounts } from "./queue-stats";

export interface DeliveryMaintenance {
  stop(): Promise<void>;
}

/** Any constant: one process at a time compacts the queue counters. */
const COMPACTION_LOCK_KEY = 7_426_104;

export function workerName(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * Worker-side upkeep of the delivery queue: crash recovery (expired leases every
 * WEBHOOK_SWEEP_INTERVAL_MS, then lost wake-ups of parked deliveries; jobs stranded before
 * their lease once per lease period) and the compaction of the queue counters.
 */
export function startDeliveryMaintenance(hub: Hub): DeliveryMaintenance {
  const { config } = hub;
  const metrics = webhookMetrics(hub.metrics);
  const name = workerName();
  const log = hub.log.child({ component: "webhooks" });

  const sweeper = everyInterval(log, "lease sweeper", config.webhooks.sweepIntervalMs, async () => {
    await sweepExpiredLeases(hub.pool, { workerName: name, metrics, log, onAttemptRecorded: (attempt) => attemptRecorded(hub, attempt) });
    await wakeWaitingDeliveries(hub.pool, config.webhooks);
  });
  const stranded = everyInterval(log, "stranded job check", config.webhooks.leaseMs, () => requeueStrandedJobs(hub.pool, config.webhooks.leaseMs, log));
  const compaction = everyInterval(log, "queue counter compaction", config.queueSampleIntervalMs, () =>
    hub.orm.em.fork().transactional(async (em) => {
      const [lock] = await em.execute<Array<{ locked: boolean }>>(TRY_XACT_LOCK_SQL, [COMPACTION_LOCK_KEY]);
      if (lock?.locked) await compactDeliveryCounts(em);
    }),
  );
  return {
    stop: async () => {
      await Promise.all([sweeper.stop(), stranded.stop(), compaction.stop()]);
    },
  };
}
