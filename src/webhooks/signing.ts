import { createHmac, randomBytes } from "node:crypto";

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): a secret is
 * `whsec_<base64 key>`, a signature `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`,
 * several separated by spaces while a rotated secret is still valid.
 */

export const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;
const SIGNATURE_VERSION = "v1";

export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString("base64");
}

function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error("webhook secret must start with whsec_");
  return Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");
}

export function signPayload(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  const digest = createHmac("sha256", secretKey(secret)).update(`${messageId}.${timestampSeconds}.${body}`).digest("base64");
  return `${SIGNATURE_VERSION},${digest}`;
}

/** The `webhook-signature` header: one signature per secret, newest first. */
export function signatureHeader(secrets: readonly string[], messageId: string, timestampSeconds: number, body: string): string {
  return secrets.map((secret) => signPayload(secret, messageId, timestampSeconds, body)).join(" ");
}
