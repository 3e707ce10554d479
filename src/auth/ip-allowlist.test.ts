import { describe, expect, it } from "vitest";
import { ClientIpResolver } from "./client-ip";
import { AllowlistChecker, ipAllowed } from "./ip-allowlist";
import { normalizeCidr, parseAddress } from "../common/ip-ranges";

describe("normalizeCidr", () => {
  it("accepts IPv4 and IPv6 CIDRs and bare addresses", () => {
    expect(normalizeCidr("203.0.113.0/24")).toBe("203.0.113.0/24");
    expect(normalizeCidr(" 198.51.100.7 ")).toBe("198.51.100.7/32");
    expect(normalizeCidr("2001:DB8::/32")).toBe("2001:db8::/32");
    expect(normalizeCidr("::1")).toBe("::1/128");
    expect(normalizeCidr("::ffff:10.0.0.1")).toBe("10.0.0.1/32");
  });

  it("refuses what is not one", () => {
    for (const bad of ["", "10.1", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/8/8", "example.com", "10.0.0.0/-1", "10.0.0.0/abc"]) {
      expect(normalizeCidr(bad), bad).toBeUndefined();
    }
  });
});

describe("ipAllowed", () => {
  it("admits everybody with an empty list", () => {
    expect(ipAllowed("192.0.2.1", [])).toBe(true);
  });

  it("matches IPv4, IPv6 and IPv4-mapped addresses against their own family only", () => {
    const list = ["203.0.113.0/24", "2001:db8:1::/48"];
    expect(ipAllowed("203.0.113.99", list)).toBe(true);
    expect(ipAllowed("::ffff:203.0.113.99", list)).toBe(true);
    expect(ipAllowed("203.0.114.1", list)).toBe(false);
    expect(ipAllowed("2001:db8:1:ffff::1", list)).toBe(true);
    expect(ipAllowed("2001:db8:2::1", list)).toBe(false);
    expect(ipAllowed("not-an-ip", list)).toBe(false);
  });
});

describe("parseAddress", () => {
  it("takes strict IPv4 and IPv6 forms only, IPv4-mapped as IPv4", () => {
    expect(parseAddress("203.0.113.9")?.toString()).toBe("203.0.113.9");
    expect(parseAddress(" ::ffff:203.0.113.9 ")?.toString()).toBe("203.0.113.9");
    expect(parseAddress("2001:db8::1")?.kind()).toBe("ipv6");
    for (const legacy of ["10.1", "010.0.0.1", "0x7f.0.0.1", "4294967295", "", "example.com"]) {
      expect(parseAddress(legacy), legacy).toBeUndefined();
    }
  });
});

describe("AllowlistChecker", () => {
  it("decides as ipAllowed does, with each list parsed once", () => {
    const checker = new AllowlistChecker(2);
    const lists = [[], ["203.0.113.0/24", "2001:db8:1::/48"], ["127.0.0.1", "::1/128"], ["not a cidr"]];
    const addresses = ["203.0.113.99", "::ffff:203.0.113.99", "203.0.114.1", "2001:db8:1:ffff::1", "127.0.0.1", "::1", "not-an-ip"];
    for (let round = 0; round < 2; round++) {
      for (const list of lists) {
        for (const address of addresses) {
          expect(checker.allowed(address, list), `${address} in ${list.join(",")}`).toBe(ipAllowed(address, list));
        }
      }
    }
  });
});

describe("ClientIpResolver", () => {
  it("uses the socket address and ignores X-Forwarded-For without trusted proxies", () => {
    const resolver = new ClientIpResolver([]);
    expect(resolver.resolve("::ffff:127.0.0.1", "203.0.113.5")).toBe("127.0.0.1");
  });

  it("believes X-Forwarded-For only from trusted proxies, hop by hop", () => {
    const resolver = new ClientIpResolver(["127.0.0.1/32", "10.0.0.0/8"]);
    expect(resolver.resolve("127.0.0.1", "203.0.113.5")).toBe("203.0.113.5");
    // A client-supplied first entry is not believed: the trusted proxy appended the real one.
    expect(resolver.resolve("127.0.0.1", "198.51.100.1, 203.0.113.5, 10.1.2.3")).toBe("203.0.113.5");
    // A direct, untrusted peer cannot claim another address.
    expect(resolver.resolve("192.0.2.44", "203.0.113.5")).toBe("192.0.2.44");
    expect(resolver.resolve("127.0.0.1", ["203.0.113.5", "10.0.0.2"])).toBe("203.0.113.5");
    expect(resolver.resolve("127.0.0.1", "2001:db8::7")).toBe("2001:db8::7");
    expect(resolver.resolve("127.0.0.1", undefined)).toBe("127.0.0.1");
    expect(resolver.resolve("127.0.0.1", "garbage")).toBe("garbage");
  });
});
