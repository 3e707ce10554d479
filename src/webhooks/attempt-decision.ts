import type { AttemptResult } from "./http-attempt";
import { nextRetryDelay, parseRetryAfter } from "./retry-schedule";

/**
 * What the outcome of one attempt means for its delivery: pure functions, fed the clock
 * and the randomness by the engine, which then records the decision in one statement.
 */

export type DeliveryStateAfter = "succeeded" | "failed" | "dead";

export interface AttemptDecision {
  state: DeliveryStateAfter;
  /** When the retry runs; null when the series ends here. */
  nextAttemptAt: Date | null;
  /** 410 Gone: the receiver asks us to stop, so the endpoint is disabled at once. */
  endpointGone: boolean;
}

/** Receivers that may slow us down with Retry-After. */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

export function decideAfterAttempt(
  result: Pick<AttemptResult, "succeeded" | "httpStatus" | "responseHeaders" | "startedAt" | "durationMs">,
  attemptNumber: number,
  schedule: readonly number[],
  random: () => number,
): AttemptDecision {
  if (result.succeeded) return { state: "succeeded", nextAttemptAt: null, endpointGone: false };
  const endpointGone = result.httpStatus === 410;
  const retryAfterMs = result.httpStatus !== null && RETRY_AFTER_STATUSES.has(result.httpStatus)
    ? parseRetryAfter(result.responseHeaders?.["retry-after"])
    : undefined;
  const delay = nextRetryDelay(schedule, attemptNumber, { retryAfterMs, random });
  if (delay === undefined) return { state: "dead", nextAttemptAt: null, endpointGone };
  // Counted from the end of this attempt, so the log shows the schedule exactly.
  return { state: "failed", nextAttemptAt: new Date(result.startedAt.getTime() + result.durationMs + delay), endpointGone };
}

/** The outcome the engine reports (and counts in hub_webhook_deliveries_total) for a recorded attempt. */
export function recordedOutcome(state: DeliveryStateAfter): "succeeded" | "retrying" | "dead" {
  return state === "failed" ? "retrying" : state;
}

/** A reserved rate-limit slot this close to now is used at once. */
export const SLOT_TOLERANCE_MS = 5;

/** The reserved send slot to wait for, or undefined to send now. */
export function rateSlotWait(slot: Date, now: Date): Date | undefined {
  return slot.getTime() - now.getTime() > SLOT_TOLERANCE_MS ? slot : undefined;
}

export interface AttemptNotice {
  /** Warnings are what an operator must look at; the rest is debug detail. */
  level: "warn" | "debug";
  message: string;
  /** Set on the notice about the endpoint being disabled. */
  disabledReason?: string;
}

/** What the log says about a recorded attempt: a dead delivery and a disabled endpoint are warnings. */
export function attemptNotices(state: DeliveryStateAfter, disabledReason: string | null): AttemptNotice[] {
  const notices: AttemptNotice[] = [
    state === "dead"
      ? { level: "warn", message: "delivery is dead: every attempt failed" }
      : { level: "debug", message: "delivery attempt recorded" },
  ];
  if (disabledReason) notices.push({ level: "warn", message: "webhook endpoint disabled", disabledReason });
  return notices;
}
