/**
 * Affiliate postback URLs: trackers that cannot verify signed JSON take a GET whose
 * query carries the conversion, e.g.
 * `https://tracker.example/pb?cid={click_id}&payout={amount}&ev={event}&tx={event_id}`.
 */

/** Macro → the field of a conversion event's `data` it reads (`timestamp` is the attempt's). */
export const POSTBACK_MACROS = {
  click_id: "clickId",
  sub1: "sub1",
  sub2: "sub2",
  sub3: "sub3",
  sub4: "sub4",
  sub5: "sub5",
  customer_id: "customerId",
  event: "event",
  event_id: "eventId",
  conversion_id: "conversionId",
  status: "status",
  amount: "amount",
  currency: "currency",
  occurred_at: "occurredAt",
  timestamp: undefined,
} as const satisfies Record<string, string | undefined>;

export type PostbackMacro = keyof typeof POSTBACK_MACROS;
const MACRO = /\{([^{}]*)\}/g;

export class PostbackTemplateError extends Error {}

function isMacro(name: string): name is PostbackMacro {
  return Object.hasOwn(POSTBACK_MACROS, name);
}

/** Refuses unknown macros and macros in the scheme, host or port (they would choose the target). */
export function checkPostbackTemplate(template: string): void {
  const unknown = [...template.matchAll(MACRO)].map((match) => match[1]!).filter((name) => !isMacro(name));
  if (unknown.length > 0) {
    throw new PostbackTemplateError(
      `has unknown macros ${unknown.map((name) => `{${name}}`).join(", ")}; known: ${Object.keys(POSTBACK_MACROS).map((name) => `{${name}}`).join(" ")}`,
    );
  }
  const schemeEnd = template.indexOf("://");
  const afterScheme = schemeEnd < 0 ? "" : template.slice(schemeEnd + 3);
  const authorityLength = afterScheme.search(/[/?#]/);
  const origin = schemeEnd < 0 ? template : template.slice(0, schemeEnd + 3 + (authorityLength < 0 ? afterScheme.length : authorityLength));
  if (origin.includes("{")) {
    throw new PostbackTemplateError("may use macros only in the path and query, not in the scheme, host or port");
  }
  if (/[{}]/.test(template.replace(MACRO, ""))) throw new PostbackTemplateError("has an unbalanced { or }");
}

function textOf(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return "";
}

/** Fills every macro, URL-encoded; unknown values become empty. */
export function renderPostbackUrl(template: string, data: Record<string, unknown>, timestampSeconds: number): string {
  return template.replace(MACRO, (whole, name: string) => {
    if (!isMacro(name)) return whole;
    const field = POSTBACK_MACROS[name];
    const value = field === undefined ? String(timestampSeconds) : textOf(data[field]);
    return encodeURIComponent(value);
  });
}

/** The URL as the SSRF check should see it: macros emptied. */
export function templateSample(template: string): string {
  return template.replace(MACRO, "");
}
