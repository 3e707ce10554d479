import { randomUUID } from "node:crypto";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * UUIDv7 (RFC 9562): 48-bit millisecond time, then random bits. Time-ordered ids keep
 * the big append-only tables' primary-key indexes compact. (The `uuid` package is
 * ESM-only, which this CommonJS build cannot import statically.)
 */
export function newId(): string {
  // randomUUID draws from entropy Node fetches in batches (one fetch per 128 ids); a
  // randomBytes(16) per id showed up in the postback profile. Its v4 layout already has
  // the RFC variant bits; the first 48 bits become the time and the version nibble 7.
  const random = randomUUID();
  const time = Date.now().toString(16).padStart(12, "0");
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}

export function isId(value: string): boolean {
  return UUID.test(value);
}
