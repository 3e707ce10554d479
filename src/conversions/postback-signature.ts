import { createHmac, timingSafeEqual } from "node:crypto";
import { UnauthenticatedError } from "../common/errors";

/**
 * Inbound postback signatures:
 *   X-Hub-Timestamp: <unix seconds>
 *   X-Hub-Signature: v1=<lowercase hex HMAC-SHA256(secret, timestamp + "." + payload)>
 * where payload is the raw body (POST) or the canonical query (GET).
 */
export const SIGNATURE_VERSION = "v1";
export const TIMESTAMP_HEADER = "x-hub-timestamp";
export const SIGNATURE_HEADER = "x-hub-signature";
/** On GET, these query parameters may carry the two values instead of the headers. */
export const TIMESTAMP_PARAMETER = "timestamp";
export const SIGNATURE_PARAMETER = "signature";
/** Never part of the canonical query: the signature itself, its timestamp, and the key. */
export const UNSIGNED_PARAMETERS: ReadonlySet<string> = new Set([SIGNATURE_PARAMETER, TIMESTAMP_PARAMETER, "api_key"]);

const SIGNATURE_FORMAT = /^v1=([0-9a-f]{64})$/;
const TIMESTAMP_FORMAT = /^\d{1,12}$/;

export class SignatureError extends UnauthenticatedError {
  constructor(message: string, code: "MISSING_SIGNATURE" | "INVALID_SIGNATURE" | "SIGNATURE_EXPIRED") {
    super(message, code);
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Every query parameter except signature, timestamp and api_key, sorted by name then
 * value (plain code-unit order of the decoded strings), each written
 * encodeURIComponent(name) + "=" + encodeURIComponent(value), joined with "&".
 * Repeated parameters all count. The sender's URL encoding does not matter: only the
 * decoded names and values do.
 */
export function canonicalQuery(parameters: Iterable<readonly [string, string]>): string {
  return [...parameters]
    .filter(([name]) => !UNSIGNED_PARAMETERS.has(name))
    .sort(([nameA, valueA], [nameB, valueB]) => compareText(nameA, nameB) || compareText(valueA, valueB))
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join("&");
}

/** `v1=<hex>` for this secret, timestamp and payload (what senders compute). */
export function signPostback(secret: string, timestamp: string | number, payload: string | Buffer): string {
  const hmac = createHmac("sha256", secret);
  hmac.update(`${timestamp}.`, "utf8");
  hmac.update(payload);
  return `${SIGNATURE_VERSION}=${hmac.digest("hex")}`;
}

export interface SignatureCheck {
  /** The secrets currently valid (current first, the previous one during a rotation's grace). */
  secrets: readonly string[];
  timestamp: string | undefined;
  signature: string | undefined;
  payload: string | Buffer;
  nowSeconds: number;
  toleranceSeconds: number;
}

/** Throws MISSING_SIGNATURE, SIGNATURE_EXPIRED or INVALID_SIGNATURE; returns when one secret matches. */
export function verifyPostbackSignature(check: SignatureCheck): void {
  const { timestamp, signature } = check;
  if (timestamp === undefined || timestamp === "" || signature === undefined || signature === "") {
    throw new SignatureError("This operator's postbacks must be signed: send X-Hub-Timestamp and X-Hub-Signature", "MISSING_SIGNATURE");
  }
  if (!TIMESTAMP_FORMAT.test(timestamp)) {
    throw new SignatureError("X-Hub-Timestamp must be unix seconds", "INVALID_SIGNATURE");
  }
  if (Math.abs(check.nowSeconds - Number(timestamp)) > check.toleranceSeconds) {
    throw new SignatureError(`The signature's timestamp is more than ${check.toleranceSeconds} s from the hub's clock`, "SIGNATURE_EXPIRED");
  }
  const given = SIGNATURE_FORMAT.exec(signature.trim());
  if (!given) throw new SignatureError("X-Hub-Signature must be v1=<64 lowercase hex digits>", "INVALID_SIGNATURE");
  const givenBytes = Buffer.from(given[1]!, "hex");
  let matched = false;
  // Every secret is tried (no early exit), each comparison constant-time.
  for (const secret of check.secrets) {
    const expected = Buffer.from(signPostback(secret, timestamp, check.payload).slice(SIGNATURE_VERSION.length + 1), "hex");
    if (timingSafeEqual(expected, givenBytes)) matched = true;
  }
  if (!matched) throw new SignatureError("The signature does not match the request", "INVALID_SIGNATURE");
}
