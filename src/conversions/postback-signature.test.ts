import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalQuery, signPostback, verifyPostbackSignature, type SignatureCheck } from "./postback-signature";

const SECRET = "pbs_unit-test-secret";
const NOW = 1_800_000_000;

function check(overrides: Partial<SignatureCheck> = {}): SignatureCheck {
  const payload = overrides.payload ?? "click_id=abc&event=ftd";
  const timestamp = overrides.timestamp ?? String(NOW);
  return {
    secrets: [SECRET],
    timestamp,
    signature: signPostback(SECRET, timestamp, payload),
    payload,
    nowSeconds: NOW,
    toleranceSeconds: 300,
    ...overrides,
  };
}

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe("canonicalQuery", () => {
  it("drops signature, timestamp and api_key, sorts by name then value, and percent-encodes", () => {
    const query = canonicalQuery([
      ["sub1", "b c"],
      ["event", "ftd"],
      ["api_key", "ahk_secret"],
      ["sub1", "a&b"],
      ["signature", "v1=00"],
      ["timestamp", "1"],
      ["amount", "10.50"],
      ["naïve", "ü"],
    ]);
    expect(query).toBe("amount=10.50&event=ftd&na%C3%AFve=%C3%BC&sub1=a%26b&sub1=b%20c");
  });

  it("is the same however the sender encoded the URL", () => {
    const a = canonicalQuery(new URLSearchParams("event=ftd&sub1=a+b&click_id=x%2Fy"));
    const b = canonicalQuery(new URLSearchParams("click_id=x/y&sub1=a%20b&event=ftd"));
    expect(a).toBe(b);
    expect(a).toBe("click_id=x%2Fy&event=ftd&sub1=a%20b");
  });
});

describe("signPostback", () => {
  it("is lowercase hex HMAC-SHA256 over timestamp.payload, as openssl computes it", () => {
    const expected = createHmac("sha256", SECRET).update(`${NOW}.{"a":1}`).digest("hex");
    expect(signPostback(SECRET, NOW, '{"a":1}')).toBe(`v1=${expected}`);
    expect(signPostback(SECRET, NOW, Buffer.from('{"a":1}'))).toBe(`v1=${expected}`);
  });
});

describe("verifyPostbackSignature", () => {
  it("accepts a correct signature", () => {
    expect(codeOf(() => verifyPostbackSignature(check()))).toBeUndefined();
  });

  it("accepts any of the valid secrets (rotation grace)", () => {
    const signedWithOld = check({ signature: signPostback("old-secret", NOW, "click_id=abc&event=ftd") });
    expect(codeOf(() => verifyPostbackSignature({ ...signedWithOld, secrets: [SECRET, "old-secret"] }))).toBeUndefined();
    expect(codeOf(() => verifyPostbackSignature(signedWithOld))).toBe("INVALID_SIGNATURE");
  });

  it("needs both headers", () => {
    expect(codeOf(() => verifyPostbackSignature(check({ signature: undefined })))).toBe("MISSING_SIGNATURE");
    expect(codeOf(() => verifyPostbackSignature(check({ timestamp: undefined, signature: "v1=00" })))).toBe("MISSING_SIGNATURE");
  });

  it("refuses timestamps outside the tolerance either way", () => {
    expect(codeOf(() => verifyPostbackSignature(check({ timestamp: String(NOW - 301) })))).toBe("SIGNATURE_EXPIRED");
    expect(codeOf(() => verifyPostbackSignature(check({ timestamp: String(NOW + 301) })))).toBe("SIGNATURE_EXPIRED");
    expect(codeOf(() => verifyPostbackSignature(check({ timestamp: String(NOW - 300) })))).toBeUndefined();
  });

  it("refuses a tampered payload, a malformed signature and a malformed timestamp", () => {
    const valid = check();
    expect(codeOf(() => verifyPostbackSignature({ ...valid, payload: "click_id=abc&event=deposit" }))).toBe("INVALID_SIGNATURE");
    expect(codeOf(() => verifyPostbackSignature({ ...valid, signature: valid.signature!.toUpperCase() }))).toBe("INVALID_SIGNATURE");
    expect(codeOf(() => verifyPostbackSignature({ ...valid, signature: valid.signature!.slice(0, -2) }))).toBe("INVALID_SIGNATURE");
    expect(codeOf(() => verifyPostbackSignature({ ...valid, signature: valid.signature!.replace("v1=", "v2=") }))).toBe("INVALID_SIGNATURE");
    expect(codeOf(() => verifyPostbackSignature({ ...valid, timestamp: "17e8" }))).toBe("INVALID_SIGNATURE");
  });
});
