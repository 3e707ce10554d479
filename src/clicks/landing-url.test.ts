import { describe, expect, it } from "vitest";
import { fillLandingUrl, validateLandingUrl } from "./landing-url";

describe("landing URL templates", () => {
  it("fill every {click_id}, encoded", () => {
    expect(fillLandingUrl("https://casino.example/?c={click_id}&again={click_id}", "a b/c")).toBe(
      "https://casino.example/?c=a%20b%2Fc&again=a%20b%2Fc",
    );
  });

  it("must be absolute http(s) URLs with the macro", () => {
    expect(validateLandingUrl(" https://casino.example/land?cid={click_id} ")).toBe("https://casino.example/land?cid={click_id}");
    expect(validateLandingUrl("http://casino.example/{click_id}")).toBe("http://casino.example/{click_id}");
    for (const bad of ["https://casino.example/", "/relative?c={click_id}", "javascript:alert({click_id})", "ftp://x.example/{click_id}", `https://x.example/?c={click_id}&p=${"x".repeat(2048)}`]) {
      expect(() => validateLandingUrl(bad), bad).toThrow();
    }
  });
});
