import { describe, expect, it } from "vitest";
import { toDate } from "./sql-values";

describe("toDate", () => {
  it("reads Postgres timestamptz text and passes Dates through", () => {
    expect(toDate("2026-01-02 03:04:05.678901+00").toISOString()).toBe("2026-01-02T03:04:05.678Z");
    expect(toDate("2026-01-02 05:04:05+02").toISOString()).toBe("2026-01-02T03:04:05.000Z");
    expect(toDate("2026-01-02 03:04:05.5+05:30").toISOString()).toBe("2026-01-01T21:34:05.500Z");
    const date = new Date();
    expect(toDate(date)).toBe(date);
    expect(toDate(null)).toBeNull();
  });
});
