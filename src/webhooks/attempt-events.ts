import type { Hub } from "../context";
import type { RecordedAttempt } from "./delivery-engine";

/**
 * The one place told about every attempt once it is in the attempt log (by the delivery
 * task and by the lease sweeper). Live subscribers (`deliveryAttempted`) are not told from
 * here: the `delivery_attempt_live` trigger sends `delivery.attempted` in the very statement
 * that logs the attempt, so the announcement commits with it and no writer can forget it.
 */
export function attemptRecorded(hub: Hub, attempt: RecordedAttempt): void {
  hub.log.trace({ attempt }, "delivery attempt recorded");
}
