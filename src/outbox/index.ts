import type { HubFeature } from "../feature";
import { Event } from "./event.entity";

/**
 * Outbound events: `publishEvent` writes the event, its deliveries and their jobs in the
 * caller's transaction. Features declare their event types in their own descriptions.
 */
export const outboxFeature: HubFeature = {
  name: "outbox",
  entities: [Event],
};
