import { describe, expect, it } from "vitest";
import { addressRefusal, checkTargetUrl, guardedLookup, resolveChecked, TargetRefusedError } from "./target-guard";

describe("SSRF guard", () => {
  it.each([
    ["127.0.0.1", /loopback/],
    ["10.1.2.3", /private/],
    ["172.16.0.9", /private/],
    ["192.168.1.1", /private/],
    ["169.254.169.254", /link-local/],
    ["100.64.0.1", /carrier-grade NAT/],
    ["0.0.0.0", /unspecified/],
    ["224.0.0.1", /multicast/],
    ["255.255.255.255", /broadcast/],
    ["::1", /loopback/],
    ["fe80::1", /link-local/],
    ["fc00::1", /unique-local/],
    ["::ffff:127.0.0.1", /loopback/],
    ["::ffff:10.0.0.1", /private/],
    ["64:ff9b::a00:1", /not a global address/],
  ])("refuses %s", (address, reason) => {
    expect(addressRefusal(address)).toMatch(reason);
  });

  it.each(["::7f00:1", "::127.0.0.1", "::a00:1", "::8.8.8.8", "::808:808", "::1:2", "0:0:0:0:0:0:5db8:d822"])(
    "refuses %s: the whole deprecated IPv4-compatible range ::/96",
    (address) => {
      expect(addressRefusal(address)).toMatch(/IPv4-compatible/);
    },
  );

  it("allows global unicast addresses", () => {
    expect(addressRefusal("93.184.216.34")).toBeUndefined();
    expect(addressRefusal("2606:2800:220:1:248:1893:25c8:1946")).toBeUndefined();
    expect(addressRefusal("::ffff:93.184.216.34")).toBeUndefined();
  });

  it("checks URLs: https only, no credentials, no literal private hosts, no localhost", () => {
    expect(() => checkTargetUrl("http://93.184.216.34/hook", false)).toThrow("must use https");
    expect(() => checkTargetUrl("ftp://example.com/", true)).toThrow("must use http or https");
    expect(() => checkTargetUrl("https://user:pw@example.com/", false)).toThrow(/credentials/);
    expect(() => checkTargetUrl("https://10.0.0.1/hook", false)).toThrow(/private/);
    expect(() => checkTargetUrl("https://[::1]:8443/hook", false)).toThrow(/loopback/);
    expect(() => checkTargetUrl("https://0x7f000001/hook", false)).toThrow(/loopback/);
    expect(() => checkTargetUrl("https://[::127.0.0.1]/hook", false)).toThrow(/IPv4-compatible/);
    expect(() => checkTargetUrl("https://[::8.8.8.8]/hook", false)).toThrow(/IPv4-compatible/);
    expect(() => checkTargetUrl("https://localhost:3000/hook", false)).toThrow(/this machine/);
    expect(() => checkTargetUrl("https://api.localhost/hook", false)).toThrow(/this machine/);
    expect(() => checkTargetUrl("not a url", false)).toThrow(/valid absolute URL/);
    expect(checkTargetUrl("https://hooks.example.com/in", false).hostname).toBe("hooks.example.com");
    expect(checkTargetUrl("http://127.0.0.1:9/in", true).port).toBe("9");
  });

  it("refuses a host when any one of its addresses is private", async () => {
    const resolver = async () => [
      { address: "93.184.216.34", family: 4 },
      { address: "10.0.0.7", family: 4 },
    ];
    await expect(resolveChecked("mixed.example", false, resolver)).rejects.toThrow(TargetRefusedError);
    await expect(resolveChecked("mixed.example", false, resolver)).rejects.toThrow(/10\.0\.0\.7 is a private address/);
    await expect(resolveChecked("mixed.example", true, resolver)).resolves.toHaveLength(2);
  });

  it("pins the connection to the first checked address", async () => {
    let calls = 0;
    const resolver = async () => {
      calls++;
      return [
        { address: "93.184.216.34", family: 4 },
        { address: "93.184.216.35", family: 4 },
      ];
    };
    const lookup = guardedLookup(false, resolver);
    const single = await new Promise<unknown[]>((resolve) => lookup("pinned.example", {}, (...args) => resolve(args)));
    expect(single).toEqual([null, "93.184.216.34", 4]);
    const all = await new Promise<unknown[]>((resolve) => lookup("pinned.example", { all: true }, (...args) => resolve(args)));
    expect(all).toEqual([null, [{ address: "93.184.216.34", family: 4 }]]);
    expect(calls).toBe(2);
  });

  it("reports a refusal through the lookup callback, so the socket never connects", async () => {
    const lookup = guardedLookup(false, async () => [{ address: "127.0.0.1", family: 4 }]);
    const [error] = await new Promise<unknown[]>((resolve) => lookup("rebind.example", {}, (...args) => resolve(args)));
    expect(error).toBeInstanceOf(TargetRefusedError);
    const [localError] = await new Promise<unknown[]>((resolve) => lookup("localhost", {}, (...args) => resolve(args)));
    expect(String(localError)).toMatch(/this machine/);
  });
});
