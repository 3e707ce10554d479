/**
 * Close codes of refused and ended graphql-ws connections. They mirror HTTP statuses the
 * way graphql-ws's own codes do (4400, 4401, 4403, 4429, 4500), so clients branch on them:
 * graphql-ws clients never retry 4400/4401 and do retry 4403, 4008 and 1013.
 */
export const WS_CLOSE = Object.freeze({
  /** The client fell too far behind on its subscriptions; reconnect and resubscribe. */
  SLOW_CONSUMER: 4008,
  /** connection_init was malformed. */
  BAD_REQUEST: 4400,
  /** No key, an unknown key, or a key revoked while connected. */
  UNAUTHENTICATED: 4401,
  /** A valid key that may not connect from here (e.g. its IP allowlist). */
  FORBIDDEN: 4403,
  /** The server could not check the key (database unavailable); retry later. */
  TRY_AGAIN_LATER: 1013,
  /** The server is shutting down. */
  GOING_AWAY: 1001,
});

const MAX_CLOSE_REASON_BYTES = 123;

/** A close frame's reason is at most 123 bytes of UTF-8. */
export function closeReason(code: string, message: string): string {
  const text = `${code}: ${message}`;
  if (Buffer.byteLength(text) <= MAX_CLOSE_REASON_BYTES) return text;
  let cut = text;
  while (Buffer.byteLength(cut) > MAX_CLOSE_REASON_BYTES - 3) cut = cut.slice(0, -1);
  return `${cut}...`;
}
