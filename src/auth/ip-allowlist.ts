import { inRanges, normalizeCidr, parseAddress, parseCidr, type ParsedCidr } from "../common/ip-ranges";

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
