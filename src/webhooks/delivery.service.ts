import type { FilterQuery } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { BadUserInputError, ConflictError, NotFoundError } from "../common/errors";
import { findPage, newestFirstById, type Page } from "../common/pagination";
import type { RequestContext } from "../context";
import { enqueueJob } from "../jobs/enqueue";
import { DeliveryAttempt } from "./delivery-attempt.entity";
import { addDeliveryJobsSql, REPLAY_BATCH_TASK } from "./delivery-jobs";
import { DeliveryReplayBatch } from "./delivery-replay-batch.entity";
import { Delivery, DeliveryState } from "./delivery.entity";
import { endpointScopeFilter, endpointScopeSql } from "./endpoint-scope";
import { scopeOf, isVisible, type TenantScope } from "../common/tenant-scope";
import { findVisibleEndpoint } from "./webhook-endpoint.service";
import { WebhookEndpoint } from "./webhook-endpoint.entity";
import { Event } from "../outbox/event.entity";
import { endpointMatchSql } from "../outbox/event-routing";
import { findEventType } from "../outbox/event-types";

export const DELIVERY_LIST = newestFirstById("deliveries");
/**
 * Caps on the lists nested in a delivery and an event (GraphQL cost estimates multiply by
 * them). Attempts: 12 per series with the default schedule, so only a delivery replayed
 * many times reaches the cap; an event has one delivery per matching endpoint, and
 * `deliveries(filter: { eventId })` pages through any number.
 */
export const MAX_LISTED_ATTEMPTS = 100;
export const MAX_LISTED_EVENT_DELIVERIES = 100;
/** Like Svix's recover: a bounded window and a bounded number per call. */
export const MAX_REPLAY_WINDOW_DAYS = 14;
export const MAX_REPLAY_DELIVERIES = 10_000;

export interface DeliveryFilter {
  endpointId?: string | null;
  eventId?: string | null;
  state?: DeliveryState | null;
  from?: Date | null;
  to?: Date | null;
}

async function visibleEndpointIds(em: EntityManager, scope: TenantScope): Promise<string[] | undefined> {
  if (scope.kind === "all") return undefined;
  const endpoints = await em.find(WebhookEndpoint, endpointScopeFilter(scope), { fields: ["id"] });
  return endpoints.map((endpoint) => endpoint.id);
}

/** Newest first; operators and affiliates see deliveries to their own endpoints only. */
export async function listDeliveries(ctx: RequestContext, filter: DeliveryFilter, first?: number | null, after?: string | null): Promise<Page<Delivery>> {
  const scope = scopeOf(ctx.viewer);
  const visible = await visibleEndpointIds(ctx.em, scope);
  const where: Record<string, unknown> = {};
  const endpointIds = filter.endpointId ? (visible && !visible.includes(filter.endpointId) ? [] : [filter.endpointId]) : visible;
  if (endpointIds) where.endpointId = { $in: endpointIds };
  if (filter.eventId) where.eventId = filter.eventId;
  if (filter.state) where.state = filter.state;
  if (filter.from || filter.to) where.createdAt = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
  return findPage(ctx.em, Delivery, where as FilterQuery<Delivery>, DELIVERY_LIST, { first, after });
}

export async function findVisibleDelivery(ctx: RequestContext, id: string, scope = scopeOf(ctx.viewer)): Promise<Delivery> {
  const delivery = await ctx.em.findOne(Delivery, { id });
  if (!delivery) throw new NotFoundError("Delivery", id);
  if (scope.kind !== "all") await findVisibleEndpoint(ctx, delivery.endpointId, scope).catch(() => {
    throw new NotFoundError("Delivery", id);
  });
  return delivery;
}

/** The latest MAX_LISTED_ATTEMPTS attempts, oldest first. */
export async function attemptsOf(em: EntityManager, deliveryId: string): Promise<DeliveryAttempt[]> {
  const latest = await em.find(DeliveryAttempt, { deliveryId }, { orderBy: { series: "desc", attemptNumber: "desc" }, limit: MAX_LISTED_ATTEMPTS });
  return latest.reverse();
}

export async function findVisibleEvent(ctx: RequestContext, id: string, scope = scopeOf(ctx.viewer)): Promise<Event> {
  const event = await ctx.em.findOne(Event, { id });
  if (!event || !isVisible(scope, event)) throw new NotFoundError("Event", id);
  return event;
}

/** An event's deliveries that the caller may see: the first MAX_LISTED_EVENT_DELIVERIES. */
export async function deliveriesOfEvent(ctx: RequestContext, eventId: string): Promise<Delivery[]> {
  const visible = await visibleEndpointIds(ctx.em, scopeOf(ctx.viewer));
  return ctx.em.find(Delivery, { eventId, ...(visible ? { endpointId: { $in: visible } } : {}) }, { orderBy: { id: "asc" }, limit: MAX_LISTED_EVENT_DELIVERIES });
}

/**
 * Starts a fresh attempt series on deliveries (the same event id, so the same
 * `webhook-id`), marked as a replay, with their jobs due now. A delivery being attempted
 * right now is left alone: it is already being sent. Returns the ids it restarted.
 */
export async function restartDeliveries(em: EntityManager, where: { sql: string; params: unknown[] }): Promise<string[]> {
  const rows = await em.execute<Array<{ id: string | null; jobs: string }>>(
    `with d as (
       update delivery set series = series + 1, replay = true, state = 'pending', attempt_count = 0,
         queued_at = now(), next_attempt_at = now(), rate_slot_at = null, succeeded_at = null, dead_at = null,
         last_attempt_at = null, last_http_status = null, last_error_class = null
       where lease_token is null and (${where.sql})
       returning id
     ),
     jobs as (${addDeliveryJobsSql("d")})
     select d.id, j.jobs from jobs j left join d on true`,
    where.params,
  );
  return rows.map((row) => row.id).filter((id): id is string => id !== null);
}

export async function replayDelivery(ctx: RequestContext, id: string): Promise<Delivery> {
  const scope = scopeOf(ctx.viewer);
  const delivery = await findVisibleDelivery(ctx, id, scope);
  const endpoint = await findVisibleEndpoint(ctx, delivery.endpointId, scope);
  if (!endpoint.enabled) throw new ConflictError(`Webhook endpoint ${endpoint.id} is disabled; enable it before replaying`, "ENDPOINT_DISABLED");
  const restarted = await ctx.em.transactional((em) => restartDeliveries(em, { sql: "id = ?::uuid", params: [id] }));
  if (restarted.length === 0) throw new ConflictError(`Delivery ${id} is being attempted right now; replay it once that attempt ends`, "DELIVERY_IN_FLIGHT");
  await ctx.em.refresh(delivery);
  ctx.log.info({ deliveryId: id }, "delivery replayed");
  return delivery;
}

/**
 * Replays an event to every endpoint that matches it now (enabled, filter, ownership;
 * for operators and affiliates, only their own endpoints): existing deliveries start a
 * new series, endpoints added since get their first delivery.
 */
export async function replayEvent(ctx: RequestContext, eventId: string): Promise<Delivery[]> {
  const scope = scopeOf(ctx.viewer);
  const event = await findVisibleEvent(ctx, eventId, scope);
  const match = endpointMatchSql({ type: event.type, postbackUrl: findEventType(ctx.hub.eventTypes, event.type)?.postbackUrl ?? false, operatorId: event.operatorId ?? null, affiliateId: event.affiliateId ?? null });
  const owned = endpointScopeSql(scope);
  const ids = await ctx.em.transactional(async (em) => {
    const matched = `select e.id from webhook_endpoint e where ${match.sql} and ${owned.sql}`;
    const matchedParams = [...match.params, ...owned.params];
    const restarted = await restartDeliveries(em, { sql: `event_id = ?::uuid and endpoint_id in (${matched})`, params: [event.id, ...matchedParams] });
    const created = await em.execute<Array<{ id: string | null }>>(
      `with d as (
         insert into delivery (id, created_at, event_id, endpoint_id, state, series, replay, attempt_count, queued_at, next_attempt_at)
         select hub_uuid_v7(), now(), ?::uuid, m.id, 'pending', 0, true, 0, now(), now() from (${matched}) m
         on conflict (event_id, endpoint_id) do nothing
         returning id
       ),
       jobs as (${addDeliveryJobsSql("d")})
       select d.id from jobs j left join d on true`,
      [event.id, ...matchedParams],
    );
    return [...restarted, ...created.map((row) => row.id).filter((id): id is string => id !== null)];
  });
  ctx.log.info({ eventId, deliveries: ids.length }, "event replayed");
  return ids.length === 0 ? [] : ctx.em.find(Delivery, { id: { $in: ids } }, { orderBy: { id: "asc" } });
}

export async function replayFailedDeliveries(ctx: RequestContext, endpointId: string, since: Date, until?: Date | null): Promise<DeliveryReplayBatch> {
  const end = until ?? new Date();
  if (!(since < end)) throw new BadUserInputError("since must be before until", { field: "since" });
  if (end.getTime() - since.getTime() > MAX_REPLAY_WINDOW_DAYS * 86_400_000) {
    throw new BadUserInputError(`the window from since to until may span at most ${MAX_REPLAY_WINDOW_DAYS} days`, { field: "since" });
  }
  const endpoint = await findVisibleEndpoint(ctx, endpointId);
  if (!endpoint.enabled) throw new ConflictError(`Webhook endpoint ${endpoint.id} is disabled; enable it before replaying`, "ENDPOINT_DISABLED");
  const batch = ctx.em.create(DeliveryReplayBatch, {
    endpointId: endpoint.id,
    since,
    until: end,
    requestedByKeyId: ctx.viewer.kind === "key" ? ctx.viewer.apiKeyId : null,
  });
  await ctx.em.transactional(async (em) => {
    em.persist(batch);
    await em.flush();
    await enqueueJob(em, REPLAY_BATCH_TASK, { batchId: batch.id }, { jobKey: `delivery_replay_batch:${batch.id}`, maxAttempts: 5 });
  });
  ctx.log.info({ batchId: batch.id, endpointId, since, until: end }, "failed deliveries replay queued");
  return batch;
}

export async function findVisibleReplayBatch(ctx: RequestContext, id: string): Promise<DeliveryReplayBatch> {
  const batch = await ctx.em.findOne(DeliveryReplayBatch, { id });
  if (!batch) throw new NotFoundError("Replay batch", id);
  await findVisibleEndpoint(ctx, batch.endpointId).catch(() => {
    throw new NotFoundError("Replay batch", id);
  });
  return batch;
}
