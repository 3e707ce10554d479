import ipaddr from "ipaddr.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;
export type ParsedCidr = [Address, number];

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, how dual-stack sockets report IPv4) is its IPv4 self. */
export function parseAddress(text: string): Address | undefined {
  const trimmed = text.trim();
  // Only strict forms count: ipaddr.isValid would also admit legacy ones such as "10.1" or octal.
  if (ipaddr.IPv4.isValidFourPartDecimal(trimmed)) return ipaddr.IPv4.parse(trimmed);
  if (ipaddr.IPv6.isValid(trimmed)) return ipaddr.process(trimmed);
  return undefined;
}

/**
 * `203.0.113.0/24`, `2001:db8::/32`, or a bare address (one host). Returns the normalised
 * text (`203.0.113.0/24`, network bits kept as given) or undefined when it is not one.
 */
export function normalizeCidr(text: string): string | undefined {
  const trimmed = text.trim();
  const [host, bits, ...rest] = trimmed.split("/");
  if (host === undefined || rest.length > 0) return undefined;
  const address = parseAddress(host);
  if (!address) return undefined;
  const maxBits = address.kind() === "ipv4" ? 32 : 128;
  if (bits === undefined) return `${address.toString()}/${maxBits}`;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > maxBits) return undefined;
  return `${address.toString()}/${Number(bits)}`;
}

export function parseCidr(normalized: string): ParsedCidr {
  const [host, bits] = normalized.split("/");
  return [parseAddress(host!)!, Number(bits)];
}

export function inRanges(address: Address, ranges: readonly ParsedCidr[]): boolean {
  return ranges.some(([network, bits]) => network.kind() === address.kind() && address.match(network, bits));
}

function parseAllowlist(allowlist: readonly string[]): ParsedCidr[] {
  const ranges: ParsedCidr[] = [];
  for (const entry of allowlist) {
    const normalized = normalizeCidr(entry);
    if (normalized) ranges.push(parseCidr(normalized));
  }
  return ranges;
}

/**
 * A key's allowlist: empty admits every address; otherwise the client address must parse
 * and fall in one of the ranges. Unparsable addresses are refused, never admitted.
 */
export function ipAllowed(clientIp: string, allowlist: readonly string[]): boolean {
  if (allowlist.length === 0) return true;
  const address = parseAddress(clientIp);
  return address !== undefined && inRanges(address, parseAllowlist(allowlist));
}

/**
 * `ipAllowed` for the request path: each distinct allowlist is parsed once, not on every
 * request (re-parsing a key's CIDRs per request was a visible share of the postback
 * profile). Bounded, so a hub with very many keys cannot grow it without limit.
 */
export class AllowlistChecker {
  private readonly parsed = new Map<string, ParsedCidr[]>();

  constructor(private readonly maxCached = 10_000) {}

  allowed(clientIp: string, allowlist: readonly string[]): boolean {
    if (allowlist.length === 0) return true;
    const address = parseAddress(clientIp);
    return address !== undefined && inRanges(address, this.ranges(allowlist));
  }

  private ranges(allowlist: readonly string[]): ParsedCidr[] {
    const cacheKey = allowlist.join(" ");
    let ranges = this.parsed.get(cacheKey);
    if (ranges === undefined) {
      ranges = parseAllowlist(allowlist);
      if (this.parsed.size >= this.maxCached) this.parsed.clear();
      this.parsed.set(cacheKey, ranges);
    }
    return ranges;
  }
}
