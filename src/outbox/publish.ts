import type { EntityManager } from "@mikro-orm/postgresql";
import type { EventTypeSpec } from "../common/event-type";
import { newId } from "../common/ids";
import { Event } from "./event.entity";
import { insertEventWithDeliveries } from "./event-routing";

export interface OutboundEvent {
  type: EventTypeSpec;
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
 *
 * The caller's pending ORM changes are flushed first (as before); the event itself is
 * written with its deliveries in one statement, the hot path of every conversion.
 */
export async function publishEvent(em: EntityManager, event: OutboundEvent): Promise<Event> {
  if (!em.isInTransaction()) return em.transactional((tx) => publishEvent(tx, event));
  await em.flush();
  const row = {
    id: newId(),
    createdAt: new Date(),
    type: event.type.name,
    payload: event.data,
    operatorId: event.operatorId ?? null,
    affiliateId: event.affiliateId ?? null,
  };
  await insertEventWithDeliveries(em, {
    ...row,
    postbackUrl: event.type.postbackUrl ?? false,
    onlyEndpointId: event.onlyEndpointId,
    excludeEndpointIds: event.excludeEndpointIds,
  });
  // Known to the ORM as an existing row: readable and referencable, never inserted twice.
  return em.merge(Event, row);
}
