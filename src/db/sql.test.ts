import { describe, expect, it } from "vitest";
import { namedSql } from "./sql";

describe("namedSql", () => {
  it("turns :name into positional parameters and leaves ::casts alone", () => {
    const statement = namedSql("select :id::uuid, :when::timestamptz, x::text from t where a = :id and b=:b_2");
    expect(statement.text).toBe("select ?::uuid, ?::timestamptz, x::text from t where a = ? and b=?");
    expect(statement.names).toEqual(["id", "when", "id", "b_2"]);
  });
});
