import type { Hub } from "../context";
import { startDeliveryMaintenance } from "./delivery-maintenance";
import { registerQueueGauges } from "./metrics";
import { queueStats } from "./queue-stats";

export interface WebhooksHandle {
  stop(): Promise<void>;
}

/**
 * Startup wiring for webhooks: queue gauges on /metrics in every role; in worker roles,
 * the lease sweeper and the queue monitor (the delivery tasks come from collectTasks).
 */
export function installWebhooks(hub: Hub): WebhooksHandle {
  registerQueueGauges(hub.metrics, () => queueStats(hub.orm.em.fork()), (error) =>
    hub.log.warn({ err: error }, "could not read queue stats for /metrics"),
  );
  const maintenance = hub.config.runsWorker ? startDeliveryMaintenance(hub) : undefined;
  return { stop: async () => maintenance?.stop() };
}
