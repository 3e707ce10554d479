import type { TenantRef } from "../common/tenant-scope";

export interface DeliveryAttemptedMessage extends TenantRef {
  attemptId: string;
  endpointId: string;
}

declare module "../live/topics" {
  interface LiveTopics {
    /** The webhook delivery queue's counts changed (the worker's sampler). */
    "queue.depth_changed": Record<string, never>;
    /** A delivery attempt was logged (trigger on delivery_attempt); tenant = the endpoint's owner. */
    "delivery.attempted": DeliveryAttemptedMessage;
  }
}
