/**
 * The catalogue of outbound event types: one list that later features extend
 * (`affiliate.signed_up`, `commission.calculated`, `payout.confirmed`, `performance.report`).
 */
export const EVENT_TYPES = [
  "conversion.recorded",
  "conversion.status_changed",
  "webhook.test",
  "alert.raised",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/** What a POSTBACK_URL endpoint (an affiliate's tracker) can receive: conversions only. */
export const POSTBACK_EVENT_TYPES: readonly EventType[] = ["conversion.recorded", "conversion.status_changed"];
