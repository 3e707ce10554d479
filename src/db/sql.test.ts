import { describe, expect, it } from "vitest";
import { namedSql, toDate } from "./sql";

describe("namedSql", () => {
  it("turns :name into positional parameters and leaves ::casts alone", () => {
    const statement = namedSql("select :id::uuid, :when::timestamptz, x::text from t where a = :id and b=:b_2");
    expect(statement.text).toBe("select ?::uuid, ?::timestamptz, x::text from t where a = ? and b=?");
    expect(statement.names).toEqual(["id", "when", "id", "b_2"]);
  });
});

describe("toDate", () => {
  it("reads Postgres timestamptz text and Dates", () => {
    expect(toDate("2026-01-02 03:04:05.123+00").toISOString()).toBe("2026-01-02T03:04:05.123Z");
    expect(toDate("2026-01-02 05:04:05+02").toISOString()).toBe("2026-01-02T03:04:05.000Z");
    expect(toDate("2026-01-02 03:04:05.123456+05:30").toISOString()).toBe("2026-01-01T21:34:05.123Z");
    expect(toDate("2026-01-02 03:04:05.678901+00").toISOString()).toBe("2026-01-02T03:04:05.678Z");
    expect(toDate("2026-01-02 03:04:05.5+05:30").toISOString()).toBe("2026-01-01T21:34:05.500Z");
    const now = new Date();
    expect(toDate(now)).toBe(now);
    expect(toDate(null)).toBeNull();
  });
});
