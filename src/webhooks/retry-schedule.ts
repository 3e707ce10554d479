/**
 * The retry schedule: the first attempt at once, then one retry after each delay in
 * the list, with jitter, and a receiver's Retry-After honoured within bounds.
 * Pure functions; the delivery task feeds them the clock and the randomness.
 */

/** Retries spread by ±10% so a burst of failures does not come back as a burst. */
export const RETRY_JITTER = 0.1;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DELAY = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
/** More than this many retries is almost certainly a typo (and makes an unbounded queue). */
export const MAX_RETRIES = 50;
const MAX_DELAY_MS = 7 * 86_400_000;

export class RetryScheduleError extends Error {}

/** Parses `30s,2m,10m,1h` into milliseconds; every problem is named. */
export function parseRetrySchedule(text: string): number[] {
  const parts = text.split(",").map((part) => part.trim());
  if (parts.length === 1 && parts[0] === "") throw new RetryScheduleError("must list at least one delay, e.g. 30s,2m,10m");
  if (parts.length > MAX_RETRIES) throw new RetryScheduleError(`must list at most ${MAX_RETRIES} delays`);
  return parts.map((part) => {
    const match = DELAY.exec(part);
    if (!match) throw new RetryScheduleError(`has "${part}", which is not a delay such as 500ms, 30s, 2m, 1h or 1d`);
    const ms = Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
    if (ms < 1 || ms > MAX_DELAY_MS) throw new RetryScheduleError(`has "${part}", outside 1ms-7d`);
    return ms;
  });
}

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
