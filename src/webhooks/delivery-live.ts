import type { EntityManager } from "@mikro-orm/postgresql";
import { ForbiddenError, NotFoundError } from "../common/errors";
import { isId } from "../common/ids";
import type { RequestContext } from "../context";
import type { LiveSample } from "../live/state-sampler";
import { liveEvents, liveState } from "../live/subscriptions";
import { DeliveryAttempt } from "./delivery-attempt.entity";
import { endpointScopeFilter } from "./endpoint-scope";
import { queueStats, type QueueStats, type QueueStatsScope } from "./queue-stats";
import { WebhookEndpoint } from "./webhook-endpoint.entity";
import { isVisible, scopeOf, type TenantScope } from "../common/tenant-scope";
import { type DeliveryAttemptedMessage } from "./webhook-topics";

/**
 * What makes the queue "changed": the counts per endpoint. The sample time and the age of
 * the oldest pending delivery move on their own every second while anything waits; they
 * travel with each push but never cause one, or a non-empty queue would push every interval.
 */
export function queueDepthSignature(stats: QueueStats): string {
  return JSON.stringify(
    stats.endpoints.map((e) => [e.endpointId, e.enabled, e.pending, e.dueNow, e.scheduledRetries, e.inFlight, e.dead]),
  );
}

/** Sampled by worker processes; a change is announced to every api process as `queue.depth_changed`. */
export const queueDepthSample: LiveSample = {
  topic: "queue.depth_changed",
  sample: async (em: EntityManager) => queueDepthSignature(await queueStats(em)),
};

/** The same share of the queue the `queueStats` query gives the key: all, or its own endpoints'. */
export function queueStatsScopeOf(scope: TenantScope): QueueStatsScope {
  if (scope.kind === "operator") return { operatorId: scope.operatorId };
  if (scope.kind === "affiliate") return { affiliateId: scope.affiliateId };
  return {};
}

/** `queueDepthChanged`: the viewer's share of the delivery queue, live (see liveState). */
export function queueDepthFeed(ctx: RequestContext): AsyncIterableIterator<QueueStats> {
  const { hub } = ctx;
  return liveState<QueueStats>(ctx, {
    name: "queueDepth",
    changeTopics: ["queue.depth_changed"],
    load: (scope) => queueStats(hub.orm.em.fork(), queueStatsScopeOf(scope)),
    sameState: (previous, next) => queueDepthSignature(previous) === queueDepthSignature(next),
  });
}

/**
 * `deliveryAttempted(endpointId?)`: every attempt logged on the viewer's endpoints (admins:
 * all), optionally one endpoint's. An endpoint the key may not see is refused with FORBIDDEN
 * whether or not it exists, so the refusal reveals nothing; an admin naming a missing
 * endpoint gets NOT_FOUND.
 */
export async function deliveryAttemptEvents(ctx: RequestContext, endpointId: string | null): Promise<AsyncIterableIterator<DeliveryAttemptedMessage>> {
  const scope = scopeOf(ctx.viewer);
  if (endpointId !== null) {
    const endpoint = isId(endpointId) ? await ctx.em.fork().findOne(WebhookEndpoint, { id: endpointId, ...endpointScopeFilter(scope) }, { fields: ["id"] }) : null;
    if (!endpoint) {
      if (scope.kind === "all") throw new NotFoundError("Webhook endpoint", endpointId);
      throw new ForbiddenError("This key may only watch its own webhook endpoints");
    }
  }
  // One filter as events arrive, so other endpoints' attempts never take this client's queue space.
  const visible = scopeOf(ctx.viewer);
  return liveEvents(ctx, "delivery.attempted", {
    visible: (message) => isVisible(visible, message) && (endpointId === null || message.endpointId === endpointId),
  });
}

/** The attempt a message announces, read with a fresh EntityManager (a subscription lives long). */
export async function loadAnnouncedAttempt(ctx: RequestContext, message: DeliveryAttemptedMessage): Promise<DeliveryAttempt> {
  const attempt = await ctx.hub.orm.em.fork().findOne(DeliveryAttempt, { id: message.attemptId });
  if (!attempt) throw new NotFoundError("Delivery attempt", message.attemptId);
  return attempt;
}
