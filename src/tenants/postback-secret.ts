import { randomBytes } from "node:crypto";
import type { OperatorSigning } from "../auth/key-store";
import type { SecretBox } from "../common/secret-box";

const SECRET_PREFIX = "pbs_";
const SECRET_RANDOM_BYTES = 32;

/** `pbs_` + 256 random bits, base64url: safe to paste into a shell (`openssl dgst -hmac "$SECRET"`). */
export function generatePostbackSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_RANDOM_BYTES).toString("base64url");
}

/**
 * The secrets a postback may be signed with right now: the current one, plus the
 * previous one until its grace period ends. Opening (AES-GCM) is memoised per sealed
 * value, since every postback needs them.
 */
export class PostbackSecrets {
  private readonly opened = new Map<string, string>();
  private static readonly MAX_CACHED = 10_000;

  constructor(private readonly box: SecretBox) {}

  valid(signing: OperatorSigning, now: Date): string[] {
    const secrets: string[] = [];
    if (signing.postbackSecret) secrets.push(this.open(signing.postbackSecret));
    if (signing.previousPostbackSecret && signing.previousPostbackSecretExpiresAt && signing.previousPostbackSecretExpiresAt > now) {
      secrets.push(this.open(signing.previousPostbackSecret));
    }
    return secrets;
  }

  private open(sealed: string): string {
    let plain = this.opened.get(sealed);
    if (plain === undefined) {
      plain = this.box.open(sealed);
      if (this.opened.size >= PostbackSecrets.MAX_CACHED) this.opened.clear();
      this.opened.set(sealed, plain);
    }
    return plain;
  }
}
