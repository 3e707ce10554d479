import { setMaxListeners } from "node:events";
import type { Task } from "graphile-worker";
import type { Hub } from "../../context";
import { attemptRecorded } from "../attempt-events";
import { createDeliveryEngine } from "../delivery-engine";
import { isDeliveryJobPayload } from "../delivery-jobs";
import { workerName } from "../delivery-maintenance";
import { createHttpAttemptClient } from "../http-attempt";
import { webhookMetrics } from "../metrics";

/**
 * `delivery__attempt { deliveryId }`: one attempt of one delivery. Safe to run twice or
 * late: the engine re-reads the row and leaves unless the delivery is due, unfinished,
 * unleased and its endpoint enabled. Ordinary failures are recorded, never thrown;
 * a throw (the database went away) lets graphile-worker retry the job.
 */
export function deliveryAttemptTask(hub: Hub): Task {
  const http = createHttpAttemptClient({ allowPrivateTargets: hub.config.webhooks.allowPrivateTargets, maxSocketsPerHost: hub.config.workerConcurrency });
  const engine = createDeliveryEngine({
    pool: hub.pool,
    secrets: hub.secrets,
    config: hub.config.webhooks,
    http,
    log: hub.log.child({ component: "webhooks" }),
    metrics: webhookMetrics(hub.metrics),
    workerName: workerName(),
    onAttemptRecorded: (attempt) => attemptRecorded(hub, attempt),
  });
  return async (payload, helpers) => {
    if (!isDeliveryJobPayload(payload)) {
      helpers.logger.error(`delivery__attempt: malformed payload ${JSON.stringify(payload)}`);
      return;
    }
    // The pool's one shutdown signal is shared by every running attempt, each listening.
    setMaxListeners(hub.config.workerConcurrency + 16, helpers.abortSignal);
    await engine.attempt(payload.deliveryId, helpers.abortSignal);
  };
}
