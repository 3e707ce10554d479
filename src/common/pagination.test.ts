import { describe, expect, it } from "vitest";
import { BadUserInputError } from "./errors";
import { newId } from "./ids";
import { afterCursor, decodeCursor, encodeCursor, MAX_PAGE_SIZE, newestFirst, newestFirstById, oldestFirstById, pageSize, toPage } from "./pagination";

const byId = oldestFirstById("operators");
const byTime = newestFirst("conversions");

function refusal(action: () => unknown): { field?: string; message: string } | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(BadUserInputError);
    return { field: (error as BadUserInputError).field, message: (error as Error).message };
  }
  return undefined;
}

describe("pageSize", () => {
  it("uses the list's default when first is absent or null, and accepts 1 to MAX_PAGE_SIZE", () => {
    expect(pageSize(byId, undefined)).toBe(100);
    expect(pageSize(byTime, null)).toBe(50);
    expect(pageSize(byId, 1)).toBe(1);
    expect(pageSize(byId, MAX_PAGE_SIZE)).toBe(MAX_PAGE_SIZE);
  });

  it("refuses 0, negatives, fractions and anything over the maximum, naming first", () => {
    for (const first of [0, -1, 1.5, MAX_PAGE_SIZE + 1]) {
      expect(refusal(() => pageSize(byId, first)), String(first)).toMatchObject({ field: "first", message: `first must be between 1 and ${MAX_PAGE_SIZE}` });
    }
  });
});

describe("cursors", () => {
  const row = { id: newId(), createdAt: new Date("2026-03-04T05:06:07.089Z") };

  it("round-trip the ordering key, and are opaque base64url", () => {
    const timeCursor = encodeCursor(byTime, row);
    expect(timeCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(byTime, timeCursor)).toEqual({ createdAt: row.createdAt, id: row.id });
    expect(decodeCursor(byId, encodeCursor(byId, row))).toEqual({ id: row.id });
    expect(decodeCursor(byId, null)).toBeUndefined();
    expect(decodeCursor(byId, undefined)).toBeUndefined();
  });

  it("refuse a cursor of another list, even one with the same ordering, naming after", () => {
    const requestLog = newestFirst("requestLog");
    expect(refusal(() => decodeCursor(requestLog, encodeCursor(byTime, row)))).toMatchObject({ field: "after" });
    expect(refusal(() => decodeCursor(oldestFirstById("affiliates"), encodeCursor(byId, row)))).toMatchObject({ field: "after" });
    expect(refusal(() => decodeCursor(byTime, encodeCursor(byId, row)))).toMatchObject({ field: "after" });
  });

  it("refuse garbage, wrong arity, a bad id and a non-canonical time", () => {
    const forge = (text: string) => Buffer.from(text, "utf8").toString("base64url");
    for (const after of [
      "garbage",
      "",
      forge("conversions"),
      forge(`conversions|${row.id}`),
      forge(`conversions|2026-03-04T05:06:07.089Z|${row.id}|extra`),
      forge("conversions|2026-03-04T05:06:07.089Z|not-an-id"),
      forge(`conversions|2026-03-04 05:06:07|${row.id}`),
      forge(`conversions|2026-02-30T00:00:00.000Z|${row.id}`),
    ]) {
      expect(refusal(() => decodeCursor(byTime, after)), after).toMatchObject({ field: "after" });
    }
  });
});

describe("afterCursor", () => {
  const id = newId();
  const createdAt = new Date("2026-03-04T05:06:07.089Z");

  it("compares the id alone for id orders, in the list's direction", () => {
    expect(afterCursor(byId, { id })).toEqual({ id: { $gt: id } });
    expect(afterCursor(newestFirstById("deliveries"), { id })).toEqual({ id: { $lt: id } });
  });

  it("spells (createdAt, id) < (cursor) as the ORM's or-of-ands", () => {
    expect(afterCursor(byTime, { createdAt, id })).toEqual({ $or: [{ createdAt: { $lt: createdAt } }, { createdAt, id: { $lt: id } }] });
  });
});

describe("toPage", () => {
  const rows = Array.from({ length: 4 }, (_, index) => ({ id: newId(), createdAt: new Date(1_700_000_000_000 + index) }));

  it("says there is a next page only when the extra row came back", () => {
    const page = toPage(byId, rows.slice(0, 3), 2);
    expect(page.nodes).toEqual(rows.slice(0, 2));
    expect(page.pageInfo).toMatchObject({ hasNextPage: true, endCursor: encodeCursor(byId, rows[1]!) });
    const exact = toPage(byId, rows.slice(0, 2), 2);
    expect(exact.nodes).toHaveLength(2);
    expect(exact.pageInfo.hasNextPage).toBe(false);
  });

  it("has no end cursor when empty", () => {
    expect(toPage(byId, [], 2).pageInfo).toMatchObject({ hasNextPage: false, endCursor: null });
  });
});
