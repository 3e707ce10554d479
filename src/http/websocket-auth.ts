import ipaddr from "ipaddr.js";
import type { IncomingMessage } from "node:http";
import { findActiveKey, viewerOf } from "../auth/api-key.service";
import { HubError } from "../common/errors";
import type { Hub } from "../context";
import { type Viewer } from "../common/viewer";

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

export type ConnectionAuthorization =
  | { readonly ok: true; readonly viewer: Extract<Viewer, { kind: "key" }> }
  | { readonly ok: false; readonly closeCode: number; readonly code: string; readonly message: string };

function refuse(closeCode: number, code: string, message: string): ConnectionAuthorization {
  return { ok: false, closeCode, code, message };
}

/**
 * Whether `address` is inside one of the key's allowlist entries (IPv4/IPv6 addresses
 * or CIDRs; an empty list allows any). IPv4-mapped IPv6 addresses count as IPv4.
 */
export function addressAllowed(allowedIps: readonly string[], address: string | undefined): boolean {
  if (allowedIps.length === 0) return true;
  if (!address || !ipaddr.isValid(address)) return false;
  const client = ipaddr.process(address);
  return allowedIps.some((entry) => {
    try {
      const [range, bits] = entry.includes("/") ? ipaddr.parseCIDR(entry) : [ipaddr.process(entry), -1];
      const normalized = range.kind() === "ipv6" && (range as ipaddr.IPv6).isIPv4MappedAddress() ? (range as ipaddr.IPv6).toIPv4Address() : range;
      if (normalized.kind() !== client.kind()) return false;
      const prefix = bits === -1 ? (client.kind() === "ipv4" ? 32 : 128) : bits;
      return client.match(normalized, prefix);
    } catch {
      return false; // a malformed entry allows nothing
    }
  });
}

/**
 * The graphql-ws `connection_init` check: the same key rules as GraphQL over HTTP (a
 * known, unrevoked key) plus the key's IP allowlist against the socket's address.
 * Refusals carry the close code and a reason the client can show.
 */
export async function authorizeConnection(
  hub: Hub,
  connectionParams: Readonly<Record<string, unknown>> | undefined,
  request: IncomingMessage,
): Promise<ConnectionAuthorization> {
  const apiKey = connectionParams?.apiKey;
  if (apiKey === undefined || apiKey === null || apiKey === "") {
    return refuse(WS_CLOSE.UNAUTHENTICATED, "MISSING_API_KEY", "Send { apiKey } in the connection_init payload");
  }
  if (typeof apiKey !== "string") return refuse(WS_CLOSE.BAD_REQUEST, "BAD_REQUEST", "connection_init apiKey must be a string");
  try {
    const key = await findActiveKey(hub.orm.em.fork(), apiKey);
    if (!key) return refuse(WS_CLOSE.UNAUTHENTICATED, "INVALID_API_KEY", "The API key is unknown or revoked");
    if (!addressAllowed(key.allowedIps, request.socket.remoteAddress)) {
      return refuse(WS_CLOSE.FORBIDDEN, "IP_NOT_ALLOWED", "This API key may not connect from this address");
    }
    const viewer = viewerOf(key);
    if (viewer.kind !== "key") return refuse(WS_CLOSE.UNAUTHENTICATED, "INVALID_API_KEY", "The API key is unknown or revoked");
    return { ok: true, viewer };
  } catch (error) {
    if (error instanceof HubError) return refuse(4000 + error.httpStatus, error.code, error.message);
    hub.log.warn({ err: error }, "could not check a WebSocket API key");
    return refuse(WS_CLOSE.TRY_AGAIN_LATER, "SERVICE_UNAVAILABLE", "The API key could not be checked; retry shortly");
  }
}

const MAX_CLOSE_REASON_BYTES = 123;

/** A close frame's reason is at most 123 bytes of UTF-8. */
export function closeReason(code: string, message: string): string {
  const text = `${code}: ${message}`;
  if (Buffer.byteLength(text) <= MAX_CLOSE_REASON_BYTES) return text;
  let cut = text;
  while (Buffer.byteLength(cut) > MAX_CLOSE_REASON_BYTES - 3) cut = cut.slice(0, -1);
  return `${cut}...`;
}
