import { describe, expect, it } from "vitest";
import { generateEncryptionKey, parseEncryptionKey, SecretBox } from "./secret-box";

const box = () => new SecretBox(parseEncryptionKey(generateEncryptionKey())!);

describe("SecretBox", () => {
  it("round-trips, and never stores the plaintext", () => {
    const secretBox = box();
    const sealed = secretBox.seal("whsec_top-secret");
    expect(sealed).not.toContain("top-secret");
    expect(sealed.startsWith(`v1.${secretBox.keyId}.`)).toBe(true);
    expect(secretBox.open(sealed)).toBe("whsec_top-secret");
    expect(secretBox.seal("same")).not.toBe(secretBox.seal("same"));
  });

  it("refuses another key and tampered ciphertext with a clear error", () => {
    const sealed = box().seal("value");
    expect(() => box().open(sealed)).toThrow(/sealed with encryption key .* check HUB_ENCRYPTION_KEY/);
    const secretBox = box();
    const parts = secretBox.seal("value").split(".");
    parts[3] = Buffer.from("tampered").toString("base64url");
    expect(() => secretBox.open(parts.join("."))).toThrow("sealed secret failed authentication");
  });
});
