import { inRanges, parseAddress, parseCidr, type ParsedCidr } from "../common/ip-ranges";

/**
 * Decides which address is the client's. Without trusted proxies it is the socket's peer:
 * X-Forwarded-For is ignored, because anybody can send it. With TRUST_PROXY, the chain is
 * walked from the socket outwards and each hop is believed only while the address that
 * handed it over is a trusted proxy (the proxy-addr rule): the first untrusted address is
 * the client. A client cannot spoof its way past a trusted proxy that appends to the header.
 */
export class ClientIpResolver {
  private readonly trusted: ParsedCidr[];

  constructor(trustedProxies: readonly string[]) {
    this.trusted = trustedProxies.map(parseCidr);
  }

  resolve(socketAddress: string | undefined, forwardedFor: string | string[] | undefined): string {
    const peer = normalize(socketAddress ?? "");
    if (this.trusted.length === 0 || forwardedFor === undefined) return peer;
    const header = Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor;
    const hops = header.split(",").map((hop) => hop.trim()).filter((hop) => hop !== "").reverse();
    let client = peer;
    for (const hop of hops) {
      const current = parseAddress(client);
      if (!current || !inRanges(current, this.trusted)) break;
      client = normalize(hop);
    }
    return client;
  }
}

/** IPv4-mapped IPv6 becomes plain IPv4; text that is not an address is kept (bounded) for the log. */
function normalize(text: string): string {
  const address = parseAddress(text);
  return address ? address.toString() : text.slice(0, 64);
}
