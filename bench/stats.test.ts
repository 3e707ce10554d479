import { describe, expect, it } from "vitest";
import { percentile, perSecond, ratio, summarizeLatencies } from "./stats";

describe("bench stats", () => {
  it("takes nearest-rank percentiles", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it("summarizes unsorted samples", () => {
    const summary = summarizeLatencies([3, 1, 2, 10]);
    expect(summary).toMatchObject({ samples: 4, p50Ms: 2, p99Ms: 10, maxMs: 10, meanMs: 4 });
  });

  it("computes rates and ratios without dividing by zero", () => {
    expect(perSecond(500, 250)).toBe(2000);
    expect(perSecond(5, 0)).toBe(0);
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(null, 3)).toBeNull();
  });
});
