import type { EntityManager } from "@mikro-orm/postgresql";
import { Event } from "./event.entity";
import type { EventType } from "./event-types";
import { createDeliveries } from "./delivery-routing";

export interface OutboundEvent {
  type: EventType;
  data: Record<string, unknown>;
  operatorId?: string | null;
  affiliateId?: string | null;
  /** Deliver to this endpoint only, whatever its filter (test webhooks). */
  onlyEndpointId?: string;
  /** Never deliver to these endpoints (an alert never goes to the endpoint that caused it). */
  excludeEndpointIds?: readonly string[];
}

/**
 * Publishes an outbound event inside the caller's unit of work: the event, one delivery
 * per matching enabled endpoint and the jobs that deliver them commit or roll back with
 * the change they announce. Called outside a transaction, it opens its own.
 */
export async function publishEvent(em: EntityManager, event: OutboundEvent): Promise<Event> {
  if (!em.isInTransaction()) return em.transactional((tx) => publishEvent(tx, event));
  const row = em.create(Event, {
    type: event.type,
    payload: event.data,
    operatorId: event.operatorId ?? null,
    affiliateId: event.affiliateId ?? null,
  });
  em.persist(row);
  await em.flush();
  await createDeliveries(em, row.id, {
    type: row.type,
    operatorId: row.operatorId ?? null,
    affiliateId: row.affiliateId ?? null,
    onlyEndpointId: event.onlyEndpointId,
    excludeEndpointIds: event.excludeEndpointIds,
  });
  return row;
}
