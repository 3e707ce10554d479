import type { EntityManager } from "@mikro-orm/postgresql";
import { CreateWebhookEndpointDocument, type CreateWebhookEndpointInput } from "../generated/graphql";
import { graphqlOk } from "./graphql";
import type { AdminApi, TestHub } from "./hub";
import { waitFor } from "./wait-for";
import { type Event } from "../../src/outbox/event.entity";
import { publishEvent, type OutboundEvent } from "../../src/outbox/publish";
import { findEventType } from "../../src/outbox/event-types";
import type { EventTypeSpec } from "../../src/common/event-type";
import { eventTypesOf } from "../../src/feature";
import { FEATURES } from "../../src/features";

export async function createEndpoint(hub: AdminApi, input: CreateWebhookEndpointInput, apiKey = hub.adminKey) {
  const { createWebhookEndpoint } = await graphqlOk(hub.graphqlUrl, CreateWebhookEndpointDocument, { variables: { input }, apiKey });
  return createWebhookEndpoint;
}

/** A declared event type by name (the features' catalogue), as tests name them. */
export function eventType(name: string): EventTypeSpec {
  const spec = findEventType(eventTypesOf(FEATURES), name);
  if (!spec) throw new Error(`no feature declares the event type ${name}`);
  return spec;
}

/** Publishes in its own transaction, as a feature would inside its unit of work. */
export async function publish(em: EntityManager, event: Omit<OutboundEvent, "type"> & { type: string | EventTypeSpec }): Promise<Event> {
  const type = typeof event.type === "string" ? eventType(event.type) : event.type;
  return em.fork().transactional((tx) => publishEvent(tx, { ...event, type }));
}

let conversionCounter = 0;

/** The `data` the conversions feature publishes, with overrides. */
export function conversionData(fields: Record<string, unknown> = {}): Record<string, unknown> {
  conversionCounter++;
  return {
    conversionId: `00000000-0000-7000-8000-${String(conversionCounter).padStart(12, "0")}`,
    operatorId: null,
    affiliateId: null,
    clickId: `click-${conversionCounter}`,
    customerId: `customer-${conversionCounter}`,
    event: "ftd",
    eventId: `ev-${conversionCounter}`,
    status: "approved",
    amount: "25.00",
    currency: "EUR",
    occurredAt: "2026-01-02T03:04:05.000Z",
    attributed: true,
    sub1: null,
    sub2: null,
    sub3: null,
    sub4: null,
    sub5: null,
    ...fields,
  };
}

export interface DeliveryRow {
  id: string;
  event_id: string;
  endpoint_id: string;
  state: string;
  series: number;
  replay: boolean;
  attempt_count: number;
  next_attempt_at: Date | null;
  lease_token: string | null;
}

export interface AttemptRow {
  id: string;
  delivery_id: string;
  series: number;
  attempt_number: number;
  replay: boolean;
  started_at: Date;
  duration_ms: number;
  succeeded: boolean;
  http_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  error_class: string | null;
  error_message: string | null;
  next_attempt_at: Date | null;
  worker: string;
}

export async function deliveriesOf(hub: TestHub, eventId: string): Promise<DeliveryRow[]> {
  return (await hub.db.query<DeliveryRow>("select * from delivery where event_id = $1 order by id", [eventId])).rows;
}

export async function attemptsOf(hub: TestHub, deliveryId: string): Promise<AttemptRow[]> {
  return (await hub.db.query<AttemptRow>("select * from delivery_attempt where delivery_id = $1 order by series, attempt_number", [deliveryId])).rows;
}

/** Waits until the event's delivery to the endpoint is in one of the states. */
export async function waitForDeliveryState(hub: TestHub, eventId: string, endpointId: string, states: string[], timeoutMs = 30_000): Promise<DeliveryRow> {
  return waitFor(
    async () => {
      const { rows } = await hub.db.query<DeliveryRow>("select * from delivery where event_id = $1 and endpoint_id = $2", [eventId, endpointId]);
      return rows[0] && states.includes(rows[0].state) ? rows[0] : undefined;
    },
    { timeoutMs, what: `delivery of ${eventId} to be ${states.join(" or ")}` },
  );
}
