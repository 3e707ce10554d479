import type { Server, Socket } from "node:net";
import ipaddr from "ipaddr.js";
import { Counter, type Registry } from "prom-client";
import type { Logger } from "../common/logger";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** One warning per this interval at most, however many connections are refused. */
const WARNING_INTERVAL_MS = 10_000;

/**
 * Caps the TCP connections one peer address may hold open in this process, so a single
 * client cannot take every socket (slow requests, idle keep-alives, WebSockets alike).
 * Connections past the cap are closed as they are accepted, before a byte is read.
 *
 * The count is of the socket's peer address: X-Forwarded-For cannot be read before there
 * is a request, and one proxy connection carries many clients' requests. So connections
 * from a trusted proxy (TRUST_PROXY) are not capped; the proxy must cap its own clients.
 */
export class ConnectionCap {
  private readonly open = new Map<string, number>();
  private readonly trustedProxies: Array<[Address, number]>;
  private readonly refused: Counter;
  private refusedSinceWarning = 0;
  private lastWarningAt = 0;

  constructor(
    private readonly maxPerAddress: number,
    trustedProxies: readonly string[],
    metrics: Registry,
    private readonly log: Logger,
  ) {
    this.trustedProxies = trustedProxies.map((cidr) => ipaddr.parseCIDR(cidr));
    this.refused = new Counter({
      name: "hub_http_connections_refused_total",
      help: "Connections closed on accept because their address already held HTTP_MAX_CONNECTIONS_PER_IP",
      registers: [metrics],
    });
  }

  /** Before the HTTP (or TLS) server's own listener, so a refused socket is never parsed. */
  attach(server: Server): void {
    if (this.maxPerAddress === 0) return;
    server.prependListener("connection", (socket: Socket) => this.admit(socket));
  }

  private admit(socket: Socket): void {
    const address = peerAddress(socket.remoteAddress);
    if (!address || this.isTrustedProxy(address)) return;
    const key = address.toString();
    const count = this.open.get(key) ?? 0;
    if (count >= this.maxPerAddress) {
      socket.destroy();
      this.refused.inc();
      this.warn(key);
      return;
    }
    this.open.set(key, count + 1);
    socket.once("close", () => {
      const left = (this.open.get(key) ?? 1) - 1;
      if (left > 0) this.open.set(key, left);
      else this.open.delete(key);
    });
  }

  private isTrustedProxy(address: Address): boolean {
    return this.trustedProxies.some(([network, bits]) => network.kind() === address.kind() && address.match(network, bits));
  }

  private warn(clientIp: string): void {
    this.refusedSinceWarning += 1;
    const now = Date.now();
    if (now - this.lastWarningAt < WARNING_INTERVAL_MS) return;
    this.log.warn(
      { clientIp, maxConnectionsPerIp: this.maxPerAddress, refused: this.refusedSinceWarning },
      "refused connections past HTTP_MAX_CONNECTIONS_PER_IP",
    );
    this.lastWarningAt = now;
    this.refusedSinceWarning = 0;
  }
}

/** IPv4-mapped IPv6 (how a dual-stack socket reports IPv4) counts as its IPv4 self. */
function peerAddress(text: string | undefined): Address | undefined {
  if (text === undefined || !ipaddr.isValid(text)) return undefined;
  return ipaddr.process(text);
}
