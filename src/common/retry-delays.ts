/**
 * Parsing a retry schedule (`30s,2m,10m,1h`), for config.ts: the schedule's behaviour
 * lives with the delivery engine (webhooks/retry-schedule.ts).
 */

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

