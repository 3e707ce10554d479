import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { generateWebhookSecret, signatureHeader, SECRET_PREFIX } from "./signing";

describe("Standard Webhooks signing", () => {
  const body = JSON.stringify({ type: "webhook.test", timestamp: "2026-01-01T00:00:00.000Z", data: { note: "ünïcode & more" } });
  const id = "0192f8a4-0000-7000-8000-000000000001";

  it("makes secrets of 32 random bytes behind whsec_", () => {
    const secret = generateWebhookSecret();
    expect(secret.startsWith(SECRET_PREFIX)).toBe(true);
    expect(Buffer.from(secret.slice(SECRET_PREFIX.length), "base64")).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });

  it("produces signatures the standardwebhooks package verifies", () => {
    const secret = generateWebhookSecret();
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signatureHeader([secret], id, timestamp, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    // The reference implementation signs identically.
    expect(headers["webhook-signature"]).toBe(new Webhook(secret).sign(id, new Date(timestamp * 1000), body));
  });

  it("signs with every secret during a rotation, each verifiable on its own", () => {
    const [current, previous, stranger] = [generateWebhookSecret(), generateWebhookSecret(), generateWebhookSecret()];
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signatureHeader([current, previous], id, timestamp, body);
    expect(signature.split(" ")).toHaveLength(2);
    const headers = { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature };
    expect(() => new Webhook(current).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(stranger).verify(body, headers)).toThrow();
  });

  it("breaks when the body, id or timestamp changes", () => {
    const secret = generateWebhookSecret();
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signatureHeader([secret], id, timestamp, body) };
    const hook = new Webhook(secret);
    expect(() => hook.verify(`${body} `, headers)).toThrow();
    expect(() => hook.verify(body, { ...headers, "webhook-id": `${id}x` })).toThrow();
    expect(() => hook.verify(body, { ...headers, "webhook-timestamp": String(timestamp - 1) })).toThrow();
  });
});
