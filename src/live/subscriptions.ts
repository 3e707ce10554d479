import type { RequestContext } from "../context";
import { liveConnectionOf } from "./live-connection";
import { StateFeed } from "./state-feed";
import type { LiveTopic, LiveTopics } from "./topics";
import { isVisible, narrowScope, scopeKey, scopeOf, type TenantScope, type TenantRef } from "../common/tenant-scope";

/**
 * The building blocks subscription resolvers use; each returns what a type-graphql
 * `@Subscription({ subscribe })` returns. Resolvers stay a few lines:
 *
 *   subscribe: ({ context, args }) => tenantEvents(context, "delivery.attempted", args)
 *   subscribe: ({ context }) => liveState(context, { name: "queueDepth", changeTopics: [...], load })
 */

/**
 * Every event of a topic that `visible` admits. Events wait for a slow client up to
 * WS_MAX_QUEUED_EVENTS per connection (all its subscriptions together); past that the
 * client is too slow and its connection is closed (4008) rather than events being lost
 * silently or memory growing. Outside graphql-ws (no connection) the oldest are dropped.
 */
export function liveEvents<K extends LiveTopic>(
  ctx: RequestContext,
  topic: K,
  options: { visible?: (payload: LiveTopics[K]) => boolean } = {},
): AsyncIterableIterator<LiveTopics[K]> {
  const connection = liveConnectionOf(ctx);
  return ctx.hub.pubSub.events<LiveTopics[K]>(topic, {
    filter: options.visible,
    maxQueued: ctx.hub.config.live.maxQueuedEvents,
    budget: connection?.queueBudget,
    onOverflow: connection ? (error) => connection.fellBehind(error.message) : undefined,
  });
}

type TenantTopic = { [K in LiveTopic]: LiveTopics[K] extends TenantRef ? K : never }[LiveTopic];

/**
 * liveEvents limited to what the viewer may see (admin: all; operator key: its operator's;
 * affiliate key: its own), optionally narrowed by `operatorId` / `affiliateId` arguments.
 * A tenant key naming another tenant is refused with FORBIDDEN before anything is sent.
 */
export function tenantEvents<K extends TenantTopic>(
  ctx: RequestContext,
  topic: K,
  filter: TenantRef = {},
): AsyncIterableIterator<LiveTopics[K]> {
  const narrowed = narrowScope(ctx.viewer, filter);
  return liveEvents(ctx, topic, { visible: (payload) => isVisible(narrowed.scope, payload as TenantRef, narrowed.filter) });
}

export interface LiveStateDefinition<T> {
  /** One feed per name per process, shared by all its subscribers. */
  name: string;
  /** Topics whose messages mean "this state may have changed". */
  changeTopics: readonly LiveTopic[];
  /** Loads the value a scope sees (use a fresh `hub.orm.em.fork()`, not the subscription's em). */
  load: (scope: TenantScope) => Promise<T>;
  /** Whether a change message concerns a scope; default: all scopes reload. */
  affects?: (payload: unknown, scope: TenantScope) => boolean;
  /** Whether a reload is the same state as the last push (default: equal JSON). */
  sameState?: (previous: T, next: T) => boolean;
  /** Default QUEUE_DEPTH_PUSH_INTERVAL_MS. */
  intervalMs?: number;
}

/**
 * A state subscription (queue depth and the like): the value on subscribe, then on change
 * at most once per interval, and again after a listener reconnect. Subscribers with the
 * same tenant scope share one load; a slow subscriber only ever has the newest value waiting.
 */
export function liveState<T>(ctx: RequestContext, definition: LiveStateDefinition<T>): AsyncIterableIterator<T> {
  const scope = scopeOf(ctx.viewer);
  const { hub } = ctx;
  const feed = hub.pubSub.shared(
    `state:${definition.name}`,
    () =>
      new StateFeed<T, TenantScope>(hub.pubSub, {
        name: definition.name,
        changeTopics: definition.changeTopics,
        intervalMs: definition.intervalMs ?? hub.config.live.statePushIntervalMs,
        load: definition.load,
        affects: definition.affects,
        sameState: definition.sameState,
        log: hub.log.child({ component: "live-state", feed: definition.name }),
      }),
  );
  return feed.subscribe(scopeKey(scope), scope);
}
