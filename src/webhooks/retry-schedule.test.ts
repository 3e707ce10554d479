import { describe, expect, it } from "vitest";
import { maxAttempts, nextRetryDelay, parseRetryAfter } from "./retry-schedule";
import { parseRetrySchedule } from "../common/retry-delays";

describe("retry schedule", () => {
  it("parses the default schedule into 12 attempts over about a day", () => {
    const schedule = parseRetrySchedule("30s,2m,10m,1h,2h,3h,3h,3h,3h,4h,4h");
    expect(schedule[0]).toBe(30_000);
    expect(schedule[3]).toBe(3_600_000);
    expect(maxAttempts(schedule)).toBe(12);
    const totalHours = schedule.reduce((sum, ms) => sum + ms, 0) / 3_600_000;
    expect(totalHours).toBeGreaterThan(23);
    expect(totalHours).toBeLessThan(25);
  });

  it("names what is wrong", () => {
    expect(() => parseRetrySchedule("")).toThrow(/at least one delay/);
    expect(() => parseRetrySchedule("30s,soon")).toThrow(/"soon"/);
    expect(() => parseRetrySchedule("8d")).toThrow(/outside/);
    expect(parseRetrySchedule(" 1s , 500ms ,1.5m")).toEqual([1_000, 500, 90_000]);
  });

  it("jitters by at most 10% and stops after the last delay", () => {
    const schedule = [1_000, 2_000];
    expect(nextRetryDelay(schedule, 1, { random: () => 0 })).toBe(900);
    expect(nextRetryDelay(schedule, 1, { random: () => 1 })).toBe(1_100);
    expect(nextRetryDelay(schedule, 2, { random: () => 0.5 })).toBe(2_000);
    expect(nextRetryDelay(schedule, 3)).toBeUndefined();
  });

  it("honours Retry-After between the scheduled delay and twice it", () => {
    const schedule = [10_000];
    const half = () => 0.5;
    expect(nextRetryDelay(schedule, 1, { retryAfterMs: 15_000, random: half })).toBe(15_000);
    expect(nextRetryDelay(schedule, 1, { retryAfterMs: 3_600_000, random: half })).toBe(20_000);
    expect(nextRetryDelay(schedule, 1, { retryAfterMs: 0, random: half })).toBe(10_000);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
