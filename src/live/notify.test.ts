import { describe, expect, it } from "vitest";
import { decodeLiveMessage, encodeLiveMessage, LivePayloadTooLargeError, MAX_LIVE_MESSAGE_BYTES } from "./notify";

describe("live message encoding", () => {
  it("round-trips a message", () => {
    const text = encodeLiveMessage("auth.api_key_revoked", { apiKeyId: "0190" });
    expect(decodeLiveMessage(text)).toEqual({ topic: "auth.api_key_revoked", payload: { apiKeyId: "0190" } });
  });

  it("refuses a message over NOTIFY's limit, counting UTF-8 bytes rather than characters", () => {
    const envelope = Buffer.byteLength(encodeLiveMessage("auth.api_key_revoked", { apiKeyId: "" }));
    const fits = "a".repeat(MAX_LIVE_MESSAGE_BYTES - envelope);
    expect(Buffer.byteLength(encodeLiveMessage("auth.api_key_revoked", { apiKeyId: fits }))).toBe(MAX_LIVE_MESSAGE_BYTES);
    expect(() => encodeLiveMessage("auth.api_key_revoked", { apiKeyId: `${fits}a` })).toThrow(LivePayloadTooLargeError);
    // 2-byte characters: half as many fit.
    const wide = "é".repeat(Math.floor((MAX_LIVE_MESSAGE_BYTES - envelope) / 2) + 1);
    expect(() => encodeLiveMessage("auth.api_key_revoked", { apiKeyId: wide })).toThrow(/NOTIFY allows 7999/);
  });

  it("ignores what is not a live message", () => {
    for (const text of [undefined, "", "not json", "[]", "null", '{"topic":1,"payload":{}}', '{"topic":"x"}', '{"topic":"x","payload":[]}']) {
      expect(decodeLiveMessage(text)).toBeUndefined();
    }
  });
});
