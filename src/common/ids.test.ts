import { describe, expect, it } from "vitest";
import { isId, newId } from "./ids";

describe("newId", () => {
  it("makes RFC 9562 version 7 UUIDs carrying the current millisecond", () => {
    const before = Date.now();
    const id = newId();
    const after = Date.now();
    expect(isId(id)).toBe(true);
    expect(id[14]).toBe("7");
    expect("89ab").toContain(id[19]);
    const millis = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(millis).toBeGreaterThanOrEqual(before);
    expect(millis).toBeLessThanOrEqual(after);
  });

  it("is unique and ordered by time across milliseconds", () => {
    const ids = Array.from({ length: 5_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    const first = ids[0]!;
    const last = ids.at(-1)!;
    expect(first.slice(0, 13) <= last.slice(0, 13)).toBe(true);
  });
});
