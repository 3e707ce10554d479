import { describe, expect, it } from "vitest";
import { addressAllowed, closeReason } from "./websocket-auth";

describe("WebSocket key IP allowlist", () => {
  it("allows any address when the list is empty", () => {
    expect(addressAllowed([], "203.0.113.9")).toBe(true);
  });

  it("matches IPv4 and IPv6 addresses and CIDRs", () => {
    const list = ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"];
    expect(addressAllowed(list, "10.20.30.40")).toBe(true);
    expect(addressAllowed(list, "192.0.2.7")).toBe(true);
    expect(addressAllowed(list, "192.0.2.8")).toBe(false);
    expect(addressAllowed(list, "2001:db8:1::5")).toBe(true);
    expect(addressAllowed(list, "2001:db9::1")).toBe(false);
  });

  it("treats IPv4-mapped IPv6 socket addresses as IPv4", () => {
    expect(addressAllowed(["127.0.0.1/32"], "::ffff:127.0.0.1")).toBe(true);
    expect(addressAllowed(["::ffff:10.0.0.1"], "10.0.0.1")).toBe(true);
  });

  it("refuses unknown addresses and ignores malformed entries", () => {
    expect(addressAllowed(["10.0.0.0/8"], undefined)).toBe(false);
    expect(addressAllowed(["not-an-ip", "10.0.0.0/99"], "10.0.0.1")).toBe(false);
  });
});

describe("close reasons", () => {
  it("fit the 123-byte limit of a close frame", () => {
    expect(closeReason("INVALID_API_KEY", "The API key is unknown or revoked")).toBe("INVALID_API_KEY: The API key is unknown or revoked");
    const long = closeReason("SLOW_CONSUMER", "é".repeat(200));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(123);
    expect(long.endsWith("...")).toBe(true);
  });
});
