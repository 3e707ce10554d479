/**
 * An outbound event type, as a feature declares it in its description (`eventTypes`).
 * The outbox routes events by it; webhook endpoints subscribe to its name.
 */
export interface EventTypeSpec {
  /** `<noun>.<past participle>`, e.g. `conversion.recorded`. */
  readonly name: string;
  readonly description: string;
  /** Also deliverable to POSTBACK_URL endpoints (affiliates' trackers, which take conversions only). */
  readonly postbackUrl?: boolean;
}

export function defineEventType(spec: EventTypeSpec): EventTypeSpec {
  return Object.freeze({ ...spec });
}
