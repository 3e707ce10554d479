import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

const ALGORITHM = "aes-256-gcm";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const FORMAT = "v1";

export class SecretBoxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SecretBoxError";
  }
}

/**
 * Encrypts secrets the hub must be able to use again (postback and webhook signing
 * secrets), so a database dump alone does not reveal them. API keys are hashed instead.
 * Sealed form: `v1.<key id>.<iv>.<ciphertext>.<tag>`, base64url parts.
 */
export class SecretBox {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new SecretBoxError(`encryption key must be ${KEY_BYTES} bytes, got ${key.length}`);
    this.keyId = createHash("sha256").update(key).digest("base64url").slice(0, 8);
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [FORMAT, this.keyId, iv.toString("base64url"), ciphertext.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
  }

  open(sealed: string): string {
    const [format, keyId, iv, ciphertext, tag] = sealed.split(".");
    if (format !== FORMAT || !keyId || !iv || ciphertext === undefined || !tag) throw new SecretBoxError("not a sealed secret");
    if (keyId !== this.keyId) {
      throw new SecretBoxError(`secret was sealed with encryption key ${keyId}, but the hub runs with key ${this.keyId}: check HUB_ENCRYPTION_KEY`);
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, Buffer.from(iv, "base64url"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
    } catch (cause) {
      throw new SecretBoxError("sealed secret failed authentication", { cause });
    }
  }
}

export function generateEncryptionKey(): string {
  return randomBytes(KEY_BYTES).toString("base64");
}

export function parseEncryptionKey(text: string): Buffer | undefined {
  const key = Buffer.from(text.trim(), "base64");
  return key.length === KEY_BYTES ? key : undefined;
}

/** Without HUB_ENCRYPTION_KEY, a key generated once and kept beside the data (mode 600). */
export async function loadOrCreateKeyFile(dataDir: string): Promise<{ key: Buffer; created: boolean; file: string }> {
  const file = path.join(dataDir, "encryption.key");
  if (existsSync(file)) {
    const key = parseEncryptionKey(await readFile(file, "utf8"));
    if (!key) throw new SecretBoxError(`${file} does not hold a base64 ${KEY_BYTES}-byte key`);
    return { key, created: false, file };
  }
  await mkdir(dataDir, { recursive: true });
  const text = generateEncryptionKey();
  await writeFile(file, `${text}\n`, { mode: 0o600, flag: "wx" });
  await chmod(file, 0o600);
  return { key: Buffer.from(text, "base64"), created: true, file };
}
