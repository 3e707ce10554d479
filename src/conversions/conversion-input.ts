import { BadUserInputError } from "../common/errors";
import { decimalText, parseDecimal } from "../common/decimal";
import { ConversionStatus, isConversionStatus } from "./conversion-status";

/** A validated conversion, whatever door it came through (postback or GraphQL). */
export interface ConversionInput {
  clickId: string | null;
  customerId: string | null;
  event: string;
  eventId: string | null;
  /** Canonical decimal text (no exponent, no trailing zeros), or null. */
  amount: string | null;
  currency: string | null;
  status: ConversionStatus;
  occurredAt: Date;
  subs: [string | null, string | null, string | null, string | null, string | null];
}

export const KNOWN_PARAMETERS = [
  "click_id", "customer_id", "event", "event_id", "amount", "currency", "status", "occurred_at",
  "sub1", "sub2", "sub3", "sub4", "sub5",
] as const;
type KnownParameter = (typeof KNOWN_PARAMETERS)[number];

export const EVENT_NAME = /^[a-z][a-z0-9_]{0,63}$/;
export const MAX_IDENTIFIER_LENGTH = 255;
/** occurred_at may run ahead of the hub's clock by this much (clock skew), not more. */
export const OCCURRED_AT_MAX_FUTURE_SECONDS = 3_600;
/** Anything earlier is a unit mistake (milliseconds read as seconds, a zero date), not a conversion. */
const OCCURRED_AT_EARLIEST = Date.UTC(2000, 0, 1);
export const DEFAULT_STATUS = ConversionStatus.APPROVED;

/** UTC offsets in use run from -12:00 to +14:00; anything beyond ±14:00 is a typo, not a zone. */
const MAX_OFFSET_MINUTES = 14 * 60;
/** A UTF-16 surrogate without its other half: JSON allows writing one (`"\ud800"`), UTF-8 cannot store it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const REPLACEMENT_CHARACTER = "\uFFFD";

const ISO_CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf("currency"));
const UNIX_SECONDS = /^\d{1,12}$/;
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?))?$/i;

/** Parameter names as the caller knows them (snake_case on REST, camelCase on GraphQL). */
export type FieldNamer = (parameter: KnownParameter) => string;
const asIs: FieldNamer = (parameter) => parameter;

/**
 * Validates a postback's parameters (query, form or JSON body, already decoded) into a
 * ConversionInput, or throws BadUserInputError naming the offending field. Unknown
 * parameters are ignored here (the caller keeps them in the raw request).
 */
export function parseConversionParameters(parameters: Readonly<Record<string, unknown>>, now: Date, fieldName: FieldNamer = asIs): ConversionInput {
  const text = (parameter: KnownParameter, options: { integersAllowed?: boolean } = {}): string | null => {
    const field = fieldName(parameter);
    let value = parameters[parameter];
    if (Array.isArray(value)) {
      if (value.length > 1) throw new BadUserInputError(`${field} is given more than once`, { field });
      value = value[0];
    }
    if (value === undefined || value === null || value === "") return null;
    if (typeof value === "number" && options.integersAllowed && Number.isSafeInteger(value)) value = String(value);
    if (typeof value !== "string") throw new BadUserInputError(`${field} must be a string`, { field });
    if (value.includes("\u0000")) throw new BadUserInputError(`${field} must not contain NUL characters`, { field });
    return value;
  };
  const identifier = (parameter: KnownParameter): string | null => {
    const value = text(parameter, { integersAllowed: true });
    if (value !== null && value.length > MAX_IDENTIFIER_LENGTH) {
      const field = fieldName(parameter);
      throw new BadUserInputError(`${field} must be at most ${MAX_IDENTIFIER_LENGTH} characters`, { field });
    }
    return value;
  };
  /*
   * What identifies a conversion must survive the trip to Postgres unchanged: a lone
   * surrogate is stored as U+FFFD, as is every byte of invalid UTF-8 in the request, so
   * "t1u-\ud800", "t1u-\udbff" and "t1u-\ufffd" would all become one conversion.
   */
  const identity = (parameter: KnownParameter): string | null => {
    const value = identifier(parameter);
    if (value !== null && (LONE_SURROGATE.test(value) || value.includes(REPLACEMENT_CHARACTER))) {
      const field = fieldName(parameter);
      throw new BadUserInputError(
        `${field} must be valid Unicode text: it contains a lone UTF-16 surrogate or the replacement character U+FFFD (often from invalid UTF-8 in the request)`,
        { field },
      );
    }
    return value;
  };

  const event = text("event");
  if (event === null) throw new BadUserInputError(`${fieldName("event")} is required`, { field: fieldName("event") });
  if (!EVENT_NAME.test(event)) {
    throw new BadUserInputError(
      `${fieldName("event")} must be registration, ftd, deposit, qualified, trade or a custom name matching ${EVENT_NAME.source}`,
      { field: fieldName("event") },
    );
  }

  const clickId = identity("click_id");
  const customerId = identity("customer_id");
  if (clickId === null && customerId === null) {
    throw new BadUserInputError(`At least one of ${fieldName("click_id")} and ${fieldName("customer_id")} is required`, { field: fieldName("click_id") });
  }
  const eventId = identity("event_id");
  const subs = [identifier("sub1"), identifier("sub2"), identifier("sub3"), identifier("sub4"), identifier("sub5")] as ConversionInput["subs"];

  const amountText = text("amount");
  const amount = amountText === null ? null : decimalText(parseDecimal(amountText, { field: fieldName("amount"), maxDecimals: 8, maxIntegerDigits: 12 }));
  const currency = parseCurrency(text("currency"), fieldName("currency"));
  if (amount !== null && currency === null) {
    throw new BadUserInputError(`${fieldName("currency")} is required with ${fieldName("amount")}`, { field: fieldName("currency") });
  }

  const statusText = text("status");
  const status = statusText === null ? DEFAULT_STATUS : statusText.toLowerCase();
  if (!isConversionStatus(status)) {
    throw new BadUserInputError(`${fieldName("status")} must be pending, approved, rejected or reversed`, { field: fieldName("status") });
  }

  const occurredAt = parseOccurredAt(text("occurred_at", { integersAllowed: true }), now, fieldName("occurred_at"));
  return { clickId, customerId, event, eventId, amount, currency, status, occurredAt, subs };
}

function parseCurrency(value: string | null, field: string): string | null {
  if (value === null) return null;
  const code = value.toUpperCase();
  if (!/^[A-Z]{3}$/.test(code) || !ISO_CURRENCIES.has(code)) {
    throw new BadUserInputError(`${field} must be an ISO 4217 currency code such as EUR`, { field });
  }
  return code;
}

/** ISO 8601 (a date, or a date-time with Z or an offset) or unix seconds; default now. */
export function parseOccurredAt(value: string | null, now: Date, field = "occurred_at"): Date {
  if (value === null) return now;
  const millis = UNIX_SECONDS.test(value) ? Number(value) * 1000 : parseIsoDateTime(value);
  if (millis === undefined) {
    throw new BadUserInputError(
      `${field} must be an ISO 8601 date-time with a zone (Z, or an offset from -14:00 to +14:00; e.g. 2025-01-31T12:00:00Z) or unix seconds`,
      { field },
    );
  }
  if (millis < OCCURRED_AT_EARLIEST) throw new BadUserInputError(`${field} is before the year 2000`, { field });
  if (millis > now.getTime() + OCCURRED_AT_MAX_FUTURE_SECONDS * 1000) {
    throw new BadUserInputError(`${field} is in the future`, { field });
  }
  return new Date(millis);
}

function parseIsoDateTime(value: string): number | undefined {
  const match = ISO_DATE_TIME.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour, minute = "0", second = "0", fraction = "", zone] = match;
  // A bare date is midnight UTC; a time of day without a zone is ambiguous and refused.
  if (hour !== undefined && zone === undefined) return undefined;
  const parts = [Number(year), Number(month), Number(day), Number(hour ?? "0"), Number(minute), Number(second)] as const;
  const utc = Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5], Number(fraction.padEnd(3, "0").slice(0, 3)));
  const check = new Date(utc);
  // Date.UTC rolls 30 February over into March; a real date reads back unchanged.
  if (check.getUTCFullYear() !== parts[0] || check.getUTCMonth() !== parts[1] - 1 || check.getUTCDate() !== parts[2]) return undefined;
  if (parts[3] > 23 || parts[4] > 59 || parts[5] > 59) return undefined;
  const offset = zoneOffsetMinutes(zone);
  return offset === undefined ? undefined : utc - offset * 60_000;
}

/** Minutes east of UTC, or undefined for an offset no zone has (beyond ±14:00, or minutes of 60 and more). */
function zoneOffsetMinutes(zone: string | undefined): number | undefined {
  if (zone === undefined || zone.toUpperCase() === "Z") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4) || "0");
  if (minutes > 59 || hours * 60 + minutes > MAX_OFFSET_MINUTES) return undefined;
  return sign * (hours * 60 + minutes);
}
