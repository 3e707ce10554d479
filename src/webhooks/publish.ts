import type { EntityManager } from "@mikro-orm/postgresql";
import { Event } from "./event.entity";
import type { EventType } from "./event-types";

export interface OutboundEvent {
  type: EventType;
  data: Record<string, unknown>;
  operatorId?: string | null;
  affiliateId?: string | null;
}

/**
 * Publishes an outbound event inside the caller's unit of work: call it within
 * `em.transactional()`, so the event (and, with the delivery engine, its deliveries
 * and their jobs) commits or rolls back with the change it announces.
 */
export async function publishEvent(em: EntityManager, event: OutboundEvent): Promise<Event> {
  const row = em.create(Event, {
    type: event.type,
    payload: event.data,
    operatorId: event.operatorId ?? null,
    affiliateId: event.affiliateId ?? null,
  });
  em.persist(row);
  await em.flush();
  return row;
}
