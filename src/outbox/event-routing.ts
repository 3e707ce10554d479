import type { EntityManager } from "@mikro-orm/postgresql";
import { addDeliveryJobsSql } from "../webhooks/delivery-jobs";

/** What decides which endpoints get an event. */
export interface EventRouting {
  type: string;
  /** The type is also for POSTBACK_URL endpoints (EventTypeSpec.postbackUrl). */
  postbackUrl: boolean;
  operatorId: string | null;
  affiliateId: string | null;
  /** Deliver to this endpoint only, whatever its filter (test webhooks). */
  onlyEndpointId?: string;
  /** Never to these (an alert never goes to the endpoint that caused it). */
  excludeEndpointIds?: readonly string[];
}

/**
 * The SQL condition (on `webhook_endpoint e`) for "this enabled endpoint receives the
 * event", and its bindings. Ownership routes: operator endpoints get their operator's
 * events, affiliate endpoints the events about their affiliate, unowned ones all.
 */
export function endpointMatchSql(routing: EventRouting): { sql: string; params: unknown[] } {
  if (routing.onlyEndpointId) return { sql: "e.enabled and e.id = ?::uuid", params: [routing.onlyEndpointId] };
  return {
    sql: `e.enabled
      and (cardinality(e.event_types) = 0 or ?::text = any(e.event_types))
      and (e.format = 'STANDARD_WEBHOOK' or ?::boolean)
      and ((e.owner_operator_id is null and e.owner_affiliate_id is null)
           or e.owner_operator_id = ?::uuid or e.owner_affiliate_id = ?::uuid)
      and not (e.id = any(string_to_array(?::text, ',')::uuid[]))`,
    params: [routing.type, routing.postbackUrl, routing.operatorId, routing.affiliateId, (routing.excludeEndpointIds ?? []).join(",")],
  };
}

/**
 * Inserts the event, one pending delivery per matching endpoint, and their jobs: one
 * statement (one round trip) on the caller's connection, so in the caller's transaction.
 */
export async function insertEventWithDeliveries(
  em: EntityManager,
  event: { id: string; createdAt: Date; payload: Record<string, unknown> } & EventRouting,
): Promise<number> {
  const match = endpointMatchSql(event);
  const rows = await em.execute<Array<{ jobs: string }>>(
    `with ev as (
       insert into event (id, created_at, type, payload, operator_id, affiliate_id)
       values (?::uuid, ?::timestamptz, ?, ?::jsonb, ?::uuid, ?::uuid)
       returning id
     ),
     inserted as (
       insert into delivery (id, created_at, event_id, endpoint_id, state, series, replay, attempt_count, queued_at, next_attempt_at)
       select hub_uuid_v7(), now(), ev.id, e.id, 'pending', 0, false, 0, now(), now()
       from ev cross join webhook_endpoint e
       where ${match.sql}
       returning id
     )
     ${addDeliveryJobsSql("inserted")}`,
    [event.id, event.createdAt, event.type, JSON.stringify(event.payload), event.operatorId, event.affiliateId, ...match.params],
  );
  return Number(rows[0]?.jobs ?? 0);
}
