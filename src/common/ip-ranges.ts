import ipaddr from "ipaddr.js";

/** Strict IP addresses and CIDR ranges: parsed once, compared cheaply. */

export type Address = ipaddr.IPv4 | ipaddr.IPv6;
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
