import { describe, expect, it } from "vitest";
import { attemptNotices, decideAfterAttempt, rateSlotWait, recordedOutcome } from "./attempt-decision";

const SCHEDULE = [1_000, 60_000];
const half = () => 0.5;
const startedAt = new Date("2026-01-01T00:00:00.000Z");

function result(fields: { succeeded?: boolean; httpStatus?: number | null; retryAfter?: string }) {
  return {
    succeeded: fields.succeeded ?? false,
    httpStatus: fields.httpStatus ?? null,
    responseHeaders: fields.retryAfter === undefined ? null : { "retry-after": fields.retryAfter },
    startedAt,
    durationMs: 250,
  };
}

describe("what an attempt's outcome means", () => {
  it("a success ends the series", () => {
    expect(decideAfterAttempt(result({ succeeded: true, httpStatus: 204 }), 1, SCHEDULE, half)).toEqual({ state: "succeeded", nextAttemptAt: null, endpointGone: false });
  });

  it("a failure schedules the next attempt from the end of this one, with jitter", () => {
    const decision = decideAfterAttempt(result({ httpStatus: 500 }), 1, SCHEDULE, half);
    expect(decision).toEqual({ state: "failed", nextAttemptAt: new Date(startedAt.getTime() + 250 + 1_000), endpointGone: false });
    const early = decideAfterAttempt(result({ httpStatus: null }), 1, SCHEDULE, () => 0);
    expect(early.nextAttemptAt!.getTime() - startedAt.getTime() - 250).toBe(900);
  });

  it("the last attempt of the schedule makes the delivery dead", () => {
    expect(decideAfterAttempt(result({ httpStatus: 500 }), 3, SCHEDULE, half)).toEqual({ state: "dead", nextAttemptAt: null, endpointGone: false });
  });

  it("honours Retry-After on 429 and 503 only, within twice the scheduled delay", () => {
    const after = (status: number, retryAfter: string) =>
      decideAfterAttempt(result({ httpStatus: status, retryAfter }), 2, SCHEDULE, half).nextAttemptAt!.getTime() - startedAt.getTime() - 250;
    expect(after(429, "90")).toBe(90_000);
    expect(after(503, "3600")).toBe(120_000);
    expect(after(500, "90")).toBe(60_000);
  });

  it("410 Gone marks the endpoint gone, whatever the schedule says", () => {
    expect(decideAfterAttempt(result({ httpStatus: 410 }), 1, SCHEDULE, half)).toMatchObject({ state: "failed", endpointGone: true });
    expect(decideAfterAttempt(result({ httpStatus: 410 }), 3, SCHEDULE, half)).toMatchObject({ state: "dead", endpointGone: true });
  });

  it("reports failed as retrying", () => {
    expect([recordedOutcome("succeeded"), recordedOutcome("failed"), recordedOutcome("dead")]).toEqual(["succeeded", "retrying", "dead"]);
  });

  it("waits for a reserved rate slot only when it is more than a few ms away", () => {
    const now = new Date("2026-01-01T00:00:00.000Z");
    expect(rateSlotWait(new Date(now.getTime() + 5), now)).toBeUndefined();
    expect(rateSlotWait(new Date(now.getTime() - 1_000), now)).toBeUndefined();
    expect(rateSlotWait(new Date(now.getTime() + 6), now)).toEqual(new Date(now.getTime() + 6));
  });

  it("warns about a dead delivery and a disabled endpoint, nothing else", () => {
    expect(attemptNotices("succeeded", null)).toEqual([{ level: "debug", message: "delivery attempt recorded" }]);
    expect(attemptNotices("failed", null).map((n) => n.level)).toEqual(["debug"]);
    expect(attemptNotices("dead", "GONE")).toEqual([
      { level: "warn", message: "delivery is dead: every attempt failed" },
      { level: "warn", message: "webhook endpoint disabled", disabledReason: "GONE" },
    ]);
  });
});
