import { describe, expect, it } from "vitest";
import { backoffDelay, LISTENER_BACKOFF } from "./backoff";

describe("backoffDelay", () => {
  it("grows exponentially from the base and stays within [ceiling/2, ceiling]", () => {
    const policy = { baseMs: 100, maxMs: 5_000 };
    expect(backoffDelay(0, policy, () => 0)).toBe(50);
    expect(backoffDelay(0, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 0)).toBe(400);
    expect(backoffDelay(3, policy, () => 1)).toBe(800);
  });

  it("never exceeds the cap, however many attempts failed", () => {
    for (const attempt of [6, 10, 50, 1_000]) {
      expect(backoffDelay(attempt, LISTENER_BACKOFF, () => 1)).toBe(LISTENER_BACKOFF.maxMs);
      expect(backoffDelay(attempt, LISTENER_BACKOFF, () => 0)).toBe(LISTENER_BACKOFF.maxMs / 2);
    }
  });

  it("treats a negative attempt as the first", () => {
    expect(backoffDelay(-5, { baseMs: 100, maxMs: 1_000 }, () => 1)).toBe(100);
  });
});
