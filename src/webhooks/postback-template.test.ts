import { describe, expect, it } from "vitest";
import { checkPostbackTemplate, POSTBACK_MACROS, renderPostbackUrl } from "./postback-template";

describe("postback URL templates", () => {
  it("accepts every documented macro", () => {
    const template = `https://tracker.example/pb?${Object.keys(POSTBACK_MACROS).map((name) => `${name}={${name}}`).join("&")}`;
    expect(() => checkPostbackTemplate(template)).not.toThrow();
  });

  it("refuses unknown macros by name", () => {
    expect(() => checkPostbackTemplate("https://t.example/pb?x={payout}&y={click_id}&z={secret}")).toThrow(/\{payout\}, \{secret\}/);
  });

  it("refuses macros that would choose the host", () => {
    expect(() => checkPostbackTemplate("https://{sub1}.example/pb")).toThrow(/path and query/);
    expect(() => checkPostbackTemplate("https://t.example:{sub1}/pb")).toThrow(/path and query/);
    expect(() => checkPostbackTemplate("https://t.example/pb?x={click_id")).toThrow(/unbalanced/);
  });

  it("fills macros URL-encoded and leaves unknown values empty", () => {
    const url = renderPostbackUrl(
      "https://t.example/pb/{event}?cid={click_id}&payout={amount}&s1={sub1}&c={currency}&ts={timestamp}&none={sub5}",
      { clickId: "a&b c", amount: "12.50", sub1: "Zoë €/?", event: "ftd", currency: null },
      1_767_225_600,
    );
    expect(url).toBe("https://t.example/pb/ftd?cid=a%26b%20c&payout=12.50&s1=Zo%C3%AB%20%E2%82%AC%2F%3F&c=&ts=1767225600&none=");
    const parsed = new URL(url);
    expect(parsed.searchParams.get("cid")).toBe("a&b c");
    expect(parsed.searchParams.get("s1")).toBe("Zoë €/?");
  });
});
