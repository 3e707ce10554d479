import type { Hub } from "../context";
import type { RecordedAttempt } from "./delivery-engine";

/**
 * The one place told about every attempt once it is in the attempt log (by the delivery
 * task and by the lease sweeper). The live layer (`deliveryAttempted` subscriptions)
 * publishes from here; payloads must stay small (ids and outcome, no bodies).
 */
export function attemptRecorded(hub: Hub, attempt: RecordedAttempt): void {
  hub.log.trace({ attempt }, "delivery attempt recorded");
}
