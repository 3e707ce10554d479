import type { HubFeature } from "../feature";
import { DeliveryAttempt } from "./delivery-attempt.entity";
import { DeliveryCount } from "./delivery-count.entity";
import { DELIVERY_ATTEMPT_TASK, REPLAY_BATCH_TASK } from "./delivery-jobs";
import { DeliveryLiveResolver } from "./delivery-live.resolver";
import { queueDepthSample } from "./delivery-live";
import { startDeliveryMaintenance } from "./delivery-maintenance";
import { DeliveryReplayBatch } from "./delivery-replay-batch.entity";
import { Delivery } from "./delivery.entity";
import { DeliveryResolver, OutboundEventResolver } from "./delivery.resolver";
import { registerQueueGauges } from "./metrics";
import { queueStats } from "./queue-stats";
import { deliveryAttemptTask } from "./tasks/delivery__attempt";
import { replayBatchTask } from "./tasks/delivery_replay_batch__run";
import { WebhookEndpoint } from "./webhook-endpoint.entity";
import { WebhookEndpointResolver } from "./webhook-endpoint.resolver";
import { WEBHOOK_TEST } from "./webhook-events";

/** Webhook endpoints and the delivery engine: signed attempts, retries, replay, the queue and its figures. */
export const webhooksFeature: HubFeature = {
  name: "webhooks",
  entities: [WebhookEndpoint, Delivery, DeliveryAttempt, DeliveryCount, DeliveryReplayBatch],
  resolvers: [WebhookEndpointResolver, DeliveryResolver, OutboundEventResolver, DeliveryLiveResolver],
  tasks: (hub) => ({
    [DELIVERY_ATTEMPT_TASK]: deliveryAttemptTask(hub),
    [REPLAY_BATCH_TASK]: replayBatchTask(hub),
  }),
  liveSamples: [queueDepthSample],
  eventTypes: [WEBHOOK_TEST],
  install: ({ hub, onClose }) => {
    // Queue gauges on /metrics in every role; crash recovery and counter compaction in worker roles.
    registerQueueGauges(hub.metrics, () => queueStats(hub.orm.em.fork()), (error) =>
      hub.log.warn({ err: error }, "could not read queue stats for /metrics"),
    );
    if (!hub.config.runsWorker) return;
    const maintenance = startDeliveryMaintenance(hub);
    onClose(() => maintenance.stop());
  },
};
