import { describe, expect, it } from "vitest";
import { asDate, namedSql } from "./sql";

describe("namedSql", () => {
  it("turns :name into positional parameters and leaves ::casts alone", () => {
    const statement = namedSql("select :id::uuid, :when::timestamptz, x::text from t where a = :id and b=:b_2");
    expect(statement.text).toBe("select ?::uuid, ?::timestamptz, x::text from t where a = ? and b=?");
    expect(statement.names).toEqual(["id", "when", "id", "b_2"]);
  });
});

describe("asDate", () => {
  it("reads Postgres timestamptz text and Dates", () => {
    expect(asDate("2026-01-02 03:04:05.123+00").toISOString()).toBe("2026-01-02T03:04:05.123Z");
    expect(asDate("2026-01-02 05:04:05+02").toISOString()).toBe("2026-01-02T03:04:05.000Z");
    expect(asDate("2026-01-02 03:04:05.123456+05:30").toISOString()).toBe("2026-01-01T21:34:05.123Z");
    const now = new Date();
    expect(asDate(now)).toBe(now);
  });
});
