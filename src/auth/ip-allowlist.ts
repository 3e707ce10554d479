import ipaddr from "ipaddr.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;
export type ParsedCidr = [Address, number];

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, how dual-stack sockets report IPv4) is its IPv4 self. */
export function parseAddress(text: string): Address | undefined {
  const trimmed = text.trim();
  if (!ipaddr.isValid(trimmed)) return undefined;
  // ipaddr.isValid also admits legacy forms such as "10.1" or octal; only strict forms count.
  if (!ipaddr.IPv4.isValidFourPartDecimal(trimmed) && !ipaddr.IPv6.isValid(trimmed)) return undefined;
  return ipaddr.process(trimmed);
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

/**
 * A key's allowlist: empty admits every address; otherwise the client address must parse
 * and fall in one of the ranges. Unparsable addresses are refused, never admitted.
 */
export function ipAllowed(clientIp: string, allowlist: readonly string[]): boolean {
  if (allowlist.length === 0) return true;
  const address = parseAddress(clientIp);
  if (!address) return false;
  const ranges: ParsedCidr[] = [];
  for (const entry of allowlist) {
    const normalized = normalizeCidr(entry);
    if (normalized) ranges.push(parseCidr(normalized));
  }
  return inRanges(address, ranges);
}
