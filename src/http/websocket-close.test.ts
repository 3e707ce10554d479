import { describe, expect, it } from "vitest";
import { closeReason } from "./websocket-close";

describe("close reasons", () => {
  it("fit the 123-byte limit of a close frame", () => {
    expect(closeReason("INVALID_API_KEY", "The API key is unknown or revoked")).toBe("INVALID_API_KEY: The API key is unknown or revoked");
    const long = closeReason("SLOW_CONSUMER", "é".repeat(200));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(123);
    expect(long.endsWith("...")).toBe(true);
  });
});
