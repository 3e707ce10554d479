import { describe, expect, it } from "vitest";
import { jsonbText } from "./json-text";

describe("jsonbText", () => {
  it("replaces what jsonb refuses, in values and keys, and keeps the rest", () => {
    expect(JSON.parse(jsonbText({ a: "x\u0000y", ["k\u0000"]: ["\uD800", "ok \uD83D\uDE00"], n: 1 }))).toEqual({
      a: "x\uFFFDy",
      "k\uFFFD": ["\uFFFD", "ok \uD83D\uDE00"],
      n: 1,
    });
  });
});
