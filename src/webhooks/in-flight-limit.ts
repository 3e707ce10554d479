/**
 * Per-endpoint in-flight limits: the policy constants the delivery statements are run with
 * (delivery.statements.ts: CLAIM_DELIVERY, PARK_DELIVERY, WAKE_WAITING_DELIVERIES).
 *
 * An endpoint gets at most its maxInFlight (default WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT)
 * attempts at once across every worker, so a receiver that hangs holds at most that many
 * worker slots for the timeout, never all of them. A due delivery that finds no free slot
 * is parked, not failed and not counted as an attempt: its job moves out of the queue (to
 * the recheck time), and the next attempt to end on that endpoint wakes it.
 */

/** A failing endpoint (failing_since set) is probed one attempt at a time until a success. */
export const FAILING_ENDPOINT_MAX_IN_FLIGHT = 1;

/**
 * Parking a delivery parks up to this many more of the endpoint's due deliveries: a
 * backlog of thousands leaves graphile-worker's queue in a few statements instead of one
 * job run each, and each statement stays short.
 */
export const PARK_BATCH = 500;

/**
 * A parked delivery's job still runs after this long (±10%) if nothing woke it first: a last
 * resort, since attempts wake the next parked delivery and every worker's maintenance loop
 * wakes one per free slot each WEBHOOK_SWEEP_INTERVAL_MS. Long, so a large parked backlog
 * costs almost nothing while it waits.
 */
export const PARKED_RECHECK_MS = 10 * 60_000;

/**
 * After a success, the worker keeps its slot and sends the endpoint's next parked delivery
 * itself (leased in the same statement that records the success), for up to this long from
 * the start of its job: a backlog flows through the slot without a trip through the job
 * queue per delivery, and the worker still returns to the queue often enough that other
 * endpoints' jobs are not held up when many endpoints have backlogs at once.
 */
export const HAND_OFF_BUDGET_MS = 1_000;

/** Attempts to take a slot before the job is simply tried again shortly. */
export const CLAIM_ROUNDS = 3;
/** How soon a job that kept losing slot races runs again (plus up to as much again at random). */
export const CONTENDED_RETRY_MS = 100;

export function parkedRecheckAt(now: Date, random: () => number): Date {
  return new Date(now.getTime() + Math.round(PARKED_RECHECK_MS * (0.9 + 0.2 * random())));
}

export function contendedRetryAt(now: Date, random: () => number): Date {
  return new Date(now.getTime() + Math.round(CONTENDED_RETRY_MS * (1 + random())));
}
