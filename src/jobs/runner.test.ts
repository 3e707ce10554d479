import { describe, expect, it } from "vitest";
import { isJobSuccessReport } from "./runner";

describe("worker log levels", () => {
  it("demotes graphile-worker's per-job success report, and nothing else", () => {
    expect(isJobSuccessReport("info", { job: { id: "1" }, duration: 1.2, success: true })).toBe(true);
    expect(isJobSuccessReport("info", { job: { id: "1" }, success: false })).toBe(false);
    expect(isJobSuccessReport("error", { success: true })).toBe(false);
    expect(isJobSuccessReport("info", undefined)).toBe(false);
    expect(isJobSuccessReport("info", { workerId: "w" })).toBe(false);
  });
});
