import { createHash, randomBytes } from "node:crypto";

const KEY_PREFIX = "ahk_";
const KEY_RANDOM_BYTES = 32;
const DISPLAY_PREFIX_LENGTH = 12;

export interface GeneratedKey {
  secret: string;
  prefix: string;
  hash: string;
}

export function hashApiKey(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function displayPrefix(secret: string): string {
  return secret.slice(0, DISPLAY_PREFIX_LENGTH);
}

export function generateApiKey(): GeneratedKey {
  const secret = KEY_PREFIX + randomBytes(KEY_RANDOM_BYTES).toString("base64url");
  return { secret, prefix: displayPrefix(secret), hash: hashApiKey(secret) };
}
