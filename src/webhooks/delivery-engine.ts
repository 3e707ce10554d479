import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { Logger } from "../common/logger";
import type { SecretBox } from "../common/secret-box";
import type { WebhookConfig } from "../config";
import { decideAfterAttempt, rateSlotWait } from "./attempt-decision";
import { recordAttempt } from "./delivery-record";
import { loadHandedOff, takeSlot } from "./delivery-claim";
import { REQUEUE_DELIVERY, RESERVE_RATE_SLOT, type ClaimedDelivery, type ReservedRateSlot } from "./delivery.statements";
import type { AttemptResult, HttpAttemptClient } from "./http-attempt";
import { HAND_OFF_BUDGET_MS } from "./in-flight-limit";
import type { WebhookMetrics } from "./metrics";
import { createWebhookRequestBuilder, type WebhookRequest } from "./webhook-request";

/**
 * The delivery engine: one attempt of one delivery, as the `delivery__attempt` task runs it.
 *
 * 1. Claim: one UPDATE leases the delivery row (token + expiry) if it is due, unfinished,
 *    unleased, its endpoint enabled and one of the endpoint's in-flight slots free. The
 *    lease, not graphile-worker's job lock, is what stops two workers from sending the
 *    same attempt: a second job for the same delivery (a replay, a re-enable) finds it
 *    leased and leaves. No free slot: the delivery is parked until an attempt on that
 *    endpoint ends and wakes it (in-flight-limit.ts): delayed, not failed, not an attempt.
 *    A success hands its slot straight to the endpoint's next parked delivery, which this
 *    worker then sends, for up to HAND_OFF_BUDGET_MS.
 * 2. Rate limit: an endpoint with rateLimitPerSecond hands out send slots from its row;
 *    a delivery whose slot is later is re-queued for that time (delayed, not failed).
 * 3. Send, with the SSRF guard and a hard deadline (WEBHOOK_TIMEOUT_MS < lease).
 * 4. Record: one statement (so one short transaction) writes the attempt, moves the
 *    delivery on (succeeded / failed with the next retry's job / dead), and updates the
 *    endpoint's health (410 or failing too long disables it), only if the lease is still ours.
 *
 * A worker that dies mid-attempt leaves its lease to expire; `sweepExpiredLeases`
 * (delivery-sweeper.ts, run by every worker process) records the lost attempt and
 * re-queues the delivery at once. The SQL is in delivery.statements.ts, what an outcome
 * means in attempt-decision.ts, the request in webhook-request.ts.
 */

export type AttemptOutcome =
  | "skipped" | "waiting_for_slot" | "contended" | "deferred" | "released" | "succeeded" | "retrying" | "dead" | "lease_lost";

/** What the attempt log holds for one attempt: also what live subscribers are told. */
export interface RecordedAttempt {
  attemptId: string;
  deliveryId: string;
  endpointId: string;
  eventId: string;
  series: number;
  attemptNumber: number;
  replay: boolean;
  startedAt: Date;
  durationMs: number;
  succeeded: boolean;
  httpStatus: number | null;
  errorClass: string | null;
  errorMessage: string | null;
  nextAttemptAt: Date | null;
  /** The delivery's state after this attempt. */
  deliveryState: "succeeded" | "failed" | "dead";
  worker: string;
}

export interface DeliveryEngineDeps {
  pool: pg.Pool;
  secrets: SecretBox;
  config: WebhookConfig;
  http: HttpAttemptClient;
  log: Logger;
  metrics: WebhookMetrics;
  /** `host:pid`, recorded on each attempt. */
  workerName: string;
  /** Called after an attempt is committed to the log (the live layer hooks in here). */
  onAttemptRecorded?: (attempt: RecordedAttempt) => void;
  random?: () => number;
}

export interface DeliveryEngine {
  attempt(deliveryId: string, signal?: AbortSignal): Promise<AttemptOutcome>;
}

/** Gives the leased delivery back, to run at `runAt` (with a reserved rate slot, if any). */
async function requeue(pool: pg.Pool, claimed: Pick<ClaimedDelivery, "id">, token: string, runAt: Date, rateSlot: Date | null = null): Promise<void> {
  await pool.query({ ...REQUEUE_DELIVERY, values: [claimed.id, token, runAt, rateSlot] });
}

/** A later rate-limit slot to wait for, or undefined to send now. */
async function rateLimitWait(pool: pg.Pool, claimed: ClaimedDelivery): Promise<Date | undefined> {
  if (!claimed.rate_limit_per_second) return undefined;
  // A slot reserved earlier: ours to use once it has come.
  if (claimed.rate_slot_at) return rateSlotWait(claimed.rate_slot_at, new Date());
  const { rows } = await pool.query<ReservedRateSlot>({ ...RESERVE_RATE_SLOT, values: [claimed.endpoint_id] });
  const reserved = rows[0];
  return reserved ? rateSlotWait(reserved.slot, reserved.now) : undefined;
}

async function send(
  deps: DeliveryEngineDeps,
  buildRequest: (claimed: ClaimedDelivery, timestampSeconds: number) => WebhookRequest,
  claimed: ClaimedDelivery,
  signal: AbortSignal | undefined,
): Promise<AttemptResult> {
  try {
    const request = buildRequest(claimed, Math.floor(Date.now() / 1_000));
    return await deps.http.send({ ...request, timeoutMs: deps.config.timeoutMs, signal });
  } catch (error) {
    // Nothing left the process (e.g. a secret sealed under another HUB_ENCRYPTION_KEY):
    // log it as a failed attempt so the schedule, the dead state and the alert still apply.
    const message = error instanceof Error ? error.message : String(error);
    deps.log.error({ err: error, deliveryId: claimed.id }, "could not prepare a webhook request");
    return {
      startedAt: new Date(), durationMs: 0, succeeded: false, httpStatus: null, responseHeaders: null, responseBody: null,
      errorClass: "connection", errorMessage: `request not sent: ${message}`, aborted: false,
    };
  }
}

interface Attempted {
  outcome: AttemptOutcome;
  /** The parked delivery a success handed this worker's slot to, leased with `token`. */
  next?: { id: string; token: string };
}

export function createDeliveryEngine(deps: DeliveryEngineDeps): DeliveryEngine {
  const random = deps.random ?? Math.random;
  const buildRequest = createWebhookRequestBuilder(deps.secrets);

  /** Rate limit, send, record, for a delivery leased with `token`. */
  async function sendAndRecord(claimed: ClaimedDelivery, token: string, signal: AbortSignal | undefined, handOffUntil: number): Promise<Attempted> {
    const wait = await rateLimitWait(deps.pool, claimed);
    if (wait) {
      await requeue(deps.pool, claimed, token, wait, wait);
      return { outcome: "deferred" };
    }
    const result = await send(deps, buildRequest, claimed, signal);
    if (result.aborted) {
      // Shutting down: give the delivery back for another worker to take at once.
      await requeue(deps.pool, claimed, token, new Date());
      return { outcome: "released" };
    }
    const decision = decideAfterAttempt(result, claimed.attempt_count + 1, deps.config.retryScheduleMs, random);
    const handOffToken = Date.now() < handOffUntil && !signal?.aborted ? randomUUID() : null;
    const recorded = await recordAttempt(deps, claimed, token, result, decision, handOffToken);
    return { outcome: recorded.outcome, next: recorded.handedOffId && handOffToken ? { id: recorded.handedOffId, token: handOffToken } : undefined };
  }

  async function attempt(deliveryId: string, signal?: AbortSignal): Promise<AttemptOutcome> {
    const token = randomUUID();
    const slot = await takeSlot(deps, deliveryId, token, random);
    if (!("claimed" in slot)) return slot.outcome;
    // The slot may pass to the endpoint's parked deliveries for a while, then goes back to the queue.
    const handOffUntil = Date.now() + HAND_OFF_BUDGET_MS;
    const first = await sendAndRecord(slot.claimed, token, signal, handOffUntil);
    let next = first.next;
    while (next) {
      const claimed = await loadHandedOff(deps.pool, next.id, next.token);
      if (!claimed || signal?.aborted) {
        // Disabled meanwhile, or shutting down: give it back (a no-op if the lease is gone).
        await requeue(deps.pool, claimed ?? { id: next.id }, next.token, new Date());
        break;
      }
      next = (await sendAndRecord(claimed, next.token, signal, handOffUntil)).next;
    }
    return first.outcome;
  }

  return { attempt };
}
