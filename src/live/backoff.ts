export interface BackoffPolicy {
  /** Delay before the first retry. */
  readonly baseMs: number;
  /** Longest delay between retries. */
  readonly maxMs: number;
}

/** Reconnect quickly after a blip, then back off so a down database is not hammered. */
export const LISTENER_BACKOFF: BackoffPolicy = Object.freeze({ baseMs: 100, maxMs: 5_000 });

/**
 * Delay before retry number `attempt` (0-based): exponential, capped, with "equal jitter"
 * (half fixed, half random) so many processes that lost the database together do not
 * reconnect in lockstep, yet none retries at once.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy = LISTENER_BACKOFF, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(0, attempt), 30);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
