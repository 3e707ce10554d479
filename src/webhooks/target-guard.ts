import dns from "node:dns";
import type { LookupAddress, LookupOptions } from "node:dns";
import ipaddr from "ipaddr.js";

/**
 * SSRF protection for outbound requests. A webhook URL is someone else's input, so the
 * hub must not be talked into calling its own network: every address a host resolves
 * to must be global unicast, and the connection is pinned to the address that was
 * checked, so a second DNS answer (rebinding) cannot slip a private address in.
 * `allowPrivate` (WEBHOOK_ALLOW_PRIVATE_TARGETS) lifts this for tests and local setups.
 */

export class TargetRefusedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "TargetRefusedError";
  }
}

const RANGE_NAMES: Record<string, string> = {
  unspecified: "an unspecified address",
  broadcast: "a broadcast address",
  multicast: "a multicast address",
  linkLocal: "a link-local address",
  loopback: "a loopback address",
  carrierGradeNat: "a carrier-grade NAT address",
  private: "a private address",
  uniqueLocal: "a unique-local (private) address",
  reserved: "a reserved address",
  deprecatedSiteLocal: "a site-local address",
};

/**
 * ipaddr.js reads `::a.b.c.d` as IPv4-mapped (`::ffff:a.b.c.d`), but the socket would
 * connect to the IPv4-compatible `::a.b.c.d`: an IPv6 address with a dotted tail is
 * rewritten in hex first, by the WHATWG URL parser (what `new URL()` gives us anyway).
 */
function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  let text = address;
  if (address.includes(":") && address.includes(".")) {
    try {
      text = new URL(`http://[${address}]/`).hostname.slice(1, -1);
    } catch {
      return undefined;
    }
  }
  return ipaddr.isValid(text) ? ipaddr.parse(text) : undefined;
}

/** `::/96` but for `::` and `::1`, which the range names already cover. */
function isIPv4Compatible(address: ipaddr.IPv6): boolean {
  return address.parts.slice(0, 6).every((part) => part === 0);
}

/** Why an address may not be called, or undefined when it is global unicast. */
export function addressRefusal(address: string): string | undefined {
  let parsed = parseAddress(address);
  if (!parsed) return `${address} is not an IP address`;
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  const range = parsed.range();
  if (range === "unicast") {
    // Deprecated (RFC 4291 §2.5.5.1) and unroutable, yet some stacks still reach the embedded IPv4 address through it.
    if (parsed.kind() === "ipv6" && isIPv4Compatible(parsed as ipaddr.IPv6)) {
      return `${address} is an IPv4-compatible address (the deprecated ::/96 range)`;
    }
    return undefined;
  }
  return `${address} is ${RANGE_NAMES[range] ?? `not a global address (${range})`}`;
}

/** Host names that always mean this machine, whatever a resolver says. */
function isLocalName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost");
}

export function bareHostname(url: URL): string {
  return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Checks what can be checked without the network: scheme, credentials, literal
 * addresses and local names. Throws TargetRefusedError naming the reason.
 */
export function checkTargetUrl(text: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TargetRefusedError("is not a valid absolute URL");
  }
  const schemes = allowPrivate ? ["https:", "http:"] : ["https:"];
  if (!schemes.includes(url.protocol)) {
    throw new TargetRefusedError(allowPrivate ? "must use http or https" : "must use https");
  }
  if (url.username || url.password) throw new TargetRefusedError("must not contain credentials (they would be stored and logged in clear)");
  if (allowPrivate) return url;
  const host = bareHostname(url);
  if (ipaddr.isValid(host)) {
    const refusal = addressRefusal(host);
    if (refusal) throw new TargetRefusedError(`resolves to a forbidden address: ${refusal}`);
  } else if (isLocalName(host)) {
    throw new TargetRefusedError(`resolves to a forbidden address: ${host} is this machine`);
  }
  return url;
}

export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/** Resolves a host and refuses it unless every address is allowed; returns the addresses. */
export async function resolveChecked(hostname: string, allowPrivate: boolean, resolve: Resolver = systemResolver): Promise<LookupAddress[]> {
  if (ipaddr.isValid(hostname)) {
    const family = ipaddr.parse(hostname).kind() === "ipv6" ? 6 : 4;
    const literal = [{ address: hostname, family }];
    if (!allowPrivate) {
      const refusal = addressRefusal(hostname);
      if (refusal) throw new TargetRefusedError(`refused ${refusal}`);
    }
    return literal;
  }
  if (!allowPrivate && isLocalName(hostname)) throw new TargetRefusedError(`refused ${hostname}: it is this machine`);
  const addresses = await resolve(hostname);
  if (addresses.length === 0) throw new TargetRefusedError(`${hostname} resolved to no address`);
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const refusal = addressRefusal(address);
      // One bad address refuses the host: a resolver may hand out any of them.
      if (refusal) throw new TargetRefusedError(`refused ${hostname}: ${refusal}`);
    }
  }
  return addresses;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request / net.connect: resolves, checks every address, and
 * hands back only the first checked one, so the socket connects to exactly that.
 */
export function guardedLookup(allowPrivate: boolean, resolve: Resolver = systemResolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolveChecked(hostname, allowPrivate, resolve).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        const chosen = wanted[0];
        if (!chosen) {
          callback(Object.assign(new Error(`${hostname} has no IPv${options.family} address`), { code: "ENOTFOUND" }), "", 0);
          return;
        }
        if (options.all) callback(null, [chosen]);
        else callback(null, chosen.address, chosen.family);
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, "", 0),
    );
  };
}
