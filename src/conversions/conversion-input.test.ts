import { describe, expect, it } from "vitest";
import { parseConversionParameters, parseOccurredAt } from "./conversion-input";
import { canTransition, ConversionStatus } from "./conversion-status";

const NOW = new Date("2026-03-01T12:00:00Z");

function fieldOf(parameters: Record<string, unknown>): string | undefined {
  try {
    parseConversionParameters(parameters, NOW);
    return undefined;
  } catch (error) {
    return (error as { field?: string }).field ?? "no field";
  }
}

describe("parseConversionParameters", () => {
  it("reads a full postback, with defaults", () => {
    const input = parseConversionParameters(
      { click_id: "c1", event: "ftd", amount: "100.50", currency: "eur", sub1: "s", unknown: "kept elsewhere" },
      NOW,
    );
    expect(input).toEqual({
      clickId: "c1",
      customerId: null,
      event: "ftd",
      eventId: null,
      amount: "100.5",
      currency: "EUR",
      status: ConversionStatus.APPROVED,
      occurredAt: NOW,
      subs: ["s", null, null, null, null],
    });
  });

  it("accepts integer identifiers from JSON bodies, and empty values count as absent", () => {
    const input = parseConversionParameters({ customer_id: 12345, click_id: "", event: "deposit", occurred_at: 1_772_000_000 }, NOW);
    expect(input.customerId).toBe("12345");
    expect(input.clickId).toBeNull();
    expect(input.occurredAt.toISOString()).toBe("2026-02-25T06:13:20.000Z");
  });

  it("names the field of each kind of bad input", () => {
    expect(fieldOf({ click_id: "c" })).toBe("event");
    expect(fieldOf({ click_id: "c", event: "First Deposit" })).toBe("event");
    expect(fieldOf({ click_id: "c", event: "x".repeat(65) })).toBe("event");
    expect(fieldOf({ event: "ftd" })).toBe("click_id");
    expect(fieldOf({ click_id: "c", event: "ftd", amount: "12,50", currency: "EUR" })).toBe("amount");
    expect(fieldOf({ click_id: "c", event: "ftd", amount: "-1", currency: "EUR" })).toBe("amount");
    expect(fieldOf({ click_id: "c", event: "ftd", amount: "1.123456789", currency: "EUR" })).toBe("amount");
    expect(fieldOf({ click_id: "c", event: "ftd", amount: "1e3", currency: "EUR" })).toBe("amount");
    expect(fieldOf({ click_id: "c", event: "ftd", amount: 12.5, currency: "EUR" })).toBe("amount");
    expect(fieldOf({ click_id: "c", event: "ftd", amount: "10" })).toBe("currency");
    expect(fieldOf({ click_id: "c", event: "ftd", amount: "10", currency: "XYZ" })).toBe("currency");
    expect(fieldOf({ click_id: "c", event: "ftd", status: "paid" })).toBe("status");
    expect(fieldOf({ click_id: "c", event: "ftd", occurred_at: "yesterday" })).toBe("occurred_at");
    expect(fieldOf({ click_id: "x".repeat(256), event: "ftd" })).toBe("click_id");
    expect(fieldOf({ customer_id: "c", event: "ftd", event_id: "e".repeat(256) })).toBe("event_id");
    expect(fieldOf({ click_id: "c", event: "ftd", sub3: "s".repeat(256) })).toBe("sub3");
    expect(fieldOf({ click_id: ["a", "b"], event: "ftd" })).toBe("click_id");
    expect(fieldOf({ click_id: { nested: true }, event: "ftd" })).toBe("click_id");
    expect(fieldOf({ click_id: "a\u0000b", event: "ftd" })).toBe("click_id");
    expect(fieldOf({ click_id: "c", event: "ftd", amount: "12345678901234", currency: "EUR" })).toBe("amount");
    expect(fieldOf({ click_id: "x".repeat(255), event: "a".repeat(64), amount: "0.12345678", currency: "EUR" })).toBeUndefined();
  });

  it("refuses lone surrogates and U+FFFD in identity fields, which Postgres would fold into one value", () => {
    for (const field of ["click_id", "customer_id", "event_id"]) {
      for (const bad of ["t1u-\uD800", "t1u-\uDBFF", "\uDC00-x", "x\uDFFF\uD800", "t1u-\uFFFD"]) {
        const parameters = { click_id: "c", event: "ftd", [field]: bad };
        expect(fieldOf(parameters), `${field}: ${JSON.stringify(bad)}`).toBe(field);
      }
      expect(fieldOf({ click_id: "c", event: "ftd", [field]: "emoji-\uD83D\uDE00 ü 中" })).toBeUndefined();
    }
    expect(parseConversionParameters({ click_id: "c", event: "ftd", sub1: "kept \uFFFD" }, NOW).subs[0]).toBe("kept \uFFFD");
  });
});

describe("parseOccurredAt", () => {
  it("reads ISO 8601 with a zone, dates, and unix seconds", () => {
    expect(parseOccurredAt("2026-02-28T23:30:00+02:00", NOW).toISOString()).toBe("2026-02-28T21:30:00.000Z");
    expect(parseOccurredAt("2026-02-28T23:30:00.5Z", NOW).toISOString()).toBe("2026-02-28T23:30:00.500Z");
    expect(parseOccurredAt("2026-02-28T23:30:00-0130", NOW).toISOString()).toBe("2026-03-01T01:00:00.000Z");
    expect(parseOccurredAt("2026-02-28", NOW).toISOString()).toBe("2026-02-28T00:00:00.000Z");
    expect(parseOccurredAt("1772000000", NOW).toISOString()).toBe("2026-02-25T06:13:20.000Z");
    expect(parseOccurredAt("2026-02-28T23:30:00+14:00", NOW).toISOString()).toBe("2026-02-28T09:30:00.000Z");
    expect(parseOccurredAt("2026-02-28T10:00:00-14:00", NOW).toISOString()).toBe("2026-03-01T00:00:00.000Z");
    expect(parseOccurredAt("2026-02-28T10:00:00+0545", NOW).toISOString()).toBe("2026-02-28T04:15:00.000Z");
  });

  it("refuses ambiguous, impossible, implausible and far-future times", () => {
    for (const bad of [
      "2026-02-28T10:00:00", "2025-02-29", "2026-02-28T24:00:00Z", "1772000000000", "1999-12-31", "2026-03-01T13:00:01Z", "now",
      "2026-02-28T10:00:00+99:99", "2026-02-28T10:00:00+14:01", "2026-02-28T10:00:00-14:30", "2026-02-28T10:00:00+05:60", "2026-02-28T10:00:00+24",
    ]) {
      expect(() => parseOccurredAt(bad, NOW), bad).toThrow();
    }
    expect(parseOccurredAt("2026-03-01T12:59:59Z", NOW).toISOString()).toBe("2026-03-01T12:59:59.000Z");
  });
});

describe("status transitions", () => {
  it("allows pending → approved|rejected|reversed and approved → reversed only", () => {
    const { PENDING, APPROVED, REJECTED, REVERSED } = ConversionStatus;
    const allowed = [
      [PENDING, APPROVED], [PENDING, REJECTED], [PENDING, REVERSED], [APPROVED, REVERSED],
    ];
    for (const from of [PENDING, APPROVED, REJECTED, REVERSED]) {
      for (const to of [PENDING, APPROVED, REJECTED, REVERSED]) {
        const expected = allowed.some(([a, b]) => a === from && b === to);
        expect(canTransition(from, to), `${from} → ${to}`).toBe(expected);
      }
    }
  });
});
