import { describe, expect, it } from "vitest";
import { CONTENDED_RETRY_MS, contendedRetryAt, PARKED_RECHECK_MS, parkedRecheckAt } from "./in-flight-limit";

const now = new Date("2026-01-01T00:00:00.000Z");
const after = (at: Date) => at.getTime() - now.getTime();

describe("in-flight limit timing", () => {
  it("rechecks a parked delivery only after a long, jittered while: wake-ups do the real work", () => {
    expect(after(parkedRecheckAt(now, () => 0))).toBe(PARKED_RECHECK_MS * 0.9);
    expect(after(parkedRecheckAt(now, () => 1))).toBe(PARKED_RECHECK_MS * 1.1);
    expect(PARKED_RECHECK_MS).toBeGreaterThanOrEqual(60_000);
  });

  it("retries a job that kept losing slot races soon, spread so two losers do not meet again", () => {
    expect(after(contendedRetryAt(now, () => 0))).toBe(CONTENDED_RETRY_MS);
    expect(after(contendedRetryAt(now, () => 0.5))).toBe(CONTENDED_RETRY_MS * 1.5);
    expect(after(contendedRetryAt(now, () => 1))).toBe(CONTENDED_RETRY_MS * 2);
  });
});
