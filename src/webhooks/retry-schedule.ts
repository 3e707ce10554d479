/**
 * The retry schedule: the first attempt at once, then one retry after each delay in
 * the list, with jitter, and a receiver's Retry-After honoured within bounds.
 * Pure functions; the delivery task feeds them the clock and the randomness.
 */

/** Retries spread by ±10% so a burst of failures does not come back as a burst. */
export const RETRY_JITTER = 0.1;

/** Attempts a delivery gets in one series: the first one plus one per delay. */
export function maxAttempts(schedule: readonly number[]): number {
  return schedule.length + 1;
}

export interface NextAttempt {
  /** Milliseconds from now until the next attempt; undefined: the series is exhausted. */
  delayMs: number | undefined;
}

/**
 * After failed attempt number `attempt` (1-based): when to try again. `retryAfterMs`
 * (from a 429/503) is honoured but clamped between the scheduled delay and twice the
 * listed delay, so a receiver can slow us down but never park a delivery forever.
 */
export function nextRetryDelay(
  schedule: readonly number[],
  attempt: number,
  options: { retryAfterMs?: number; random?: () => number } = {},
): number | undefined {
  const base = schedule[attempt - 1];
  if (base === undefined) return undefined;
  const random = options.random ?? Math.random;
  const jittered = Math.round(base * (1 - RETRY_JITTER + 2 * RETRY_JITTER * random()));
  if (options.retryAfterMs === undefined) return jittered;
  return Math.min(Math.max(options.retryAfterMs, jittered), 2 * base);
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
