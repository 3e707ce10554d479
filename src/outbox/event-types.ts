import type { EventTypeSpec } from "../common/event-type";

/**
 * The catalogue of outbound event types is the features' declarations (`eventTypes`),
 * collected once at start into `hub.eventTypes`. These read it.
 */
export function eventTypeCatalogue(specs: readonly EventTypeSpec[]): readonly EventTypeSpec[] {
  const names = new Set<string>();
  for (const spec of specs) {
    if (names.has(spec.name)) throw new Error(`Event type ${spec.name} is declared twice`);
    names.add(spec.name);
  }
  return Object.freeze([...specs]);
}

export function findEventType(catalogue: readonly EventTypeSpec[], name: string): EventTypeSpec | undefined {
  return catalogue.find((spec) => spec.name === name);
}

/** What a POSTBACK_URL endpoint (an affiliate's tracker) can receive. */
export function postbackUrlEventTypes(catalogue: readonly EventTypeSpec[]): string[] {
  return catalogue.filter((spec) => spec.postbackUrl).map((spec) => spec.name);
}
