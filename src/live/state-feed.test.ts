import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../common/logger";
import { LocalPubSub } from "./local-pubsub";
import { StateFeed } from "./state-feed";
import { LIVE_RESYNC } from "./topics";

const INTERVAL_MS = 1_000;
const CHANGED = "test.changed";

/** A fast subscriber: reads everything as it is pushed. */
function reader<T>(iterator: AsyncIterableIterator<T>) {
  const values: T[] = [];
  let ended = false;
  void (async () => {
    for await (const value of iterator) values.push(value);
    ended = true;
  })();
  return { values, iterator, get ended() {
    return ended;
  } };
}

/** Lets timers and promise chains run, as a real event loop would over `ms`. */
async function elapse(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

function feedOf(pubSub: LocalPubSub, load: (scope: string) => Promise<unknown>, affects?: (payload: unknown, scope: string) => boolean) {
  return new StateFeed<unknown, string>(pubSub, {
    name: "test",
    changeTopics: [CHANGED],
    intervalMs: INTERVAL_MS,
    load,
    affects,
    log: createLogger("silent"),
  });
}

let pubSub: LocalPubSub;
let value: number;
let loads: number;
const load = async () => {
  loads += 1;
  return { depth: value };
};

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  pubSub = new LocalPubSub();
  value = 0;
  loads = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

describe("StateFeed", () => {
  it("pushes the current value once on subscribe", async () => {
    const feed = feedOf(pubSub, load);
    const subscriber = reader(feed.subscribe("all", "all"));
    await elapse();
    expect(subscriber.values).toEqual([{ depth: 0 }]);
    expect(loads).toBe(1);
  });

  it("coalesces a burst of changes into at most one load and push per interval", async () => {
    const feed = feedOf(pubSub, load);
    const subscriber = reader(feed.subscribe("all", "all"));
    await elapse();
    for (let i = 1; i <= 50; i++) {
      value = i;
      pubSub.publish(CHANGED, {});
      await elapse(10);
    }
    // 500 ms of changes after a load at t=0: the trailing load waits for t=1000.
    expect(loads).toBe(1);
    await elapse(INTERVAL_MS);
    expect(loads).toBe(2);
    expect(subscriber.values).toEqual([{ depth: 0 }, { depth: 50 }]);
  });

  it("pushes a change at once when the interval has already passed", async () => {
    const feed = feedOf(pubSub, load);
    const subscriber = reader(feed.subscribe("all", "all"));
    await elapse(5 * INTERVAL_MS);
    value = 7;
    pubSub.publish(CHANGED, {});
    await elapse();
    expect(subscriber.values).toEqual([{ depth: 0 }, { depth: 7 }]);
  });

  it("does not push a value equal to the last one, except after a resync", async () => {
    const feed = feedOf(pubSub, load);
    const subscriber = reader(feed.subscribe("all", "all"));
    await elapse(INTERVAL_MS);
    pubSub.publish(CHANGED, {});
    await elapse(INTERVAL_MS);
    expect(loads).toBe(2);
    expect(subscriber.values).toHaveLength(1);

    pubSub.publish(LIVE_RESYNC, {});
    await elapse(INTERVAL_MS);
    expect(loads).toBe(3);
    expect(subscriber.values).toEqual([{ depth: 0 }, { depth: 0 }]);
  });

  it("serves every subscriber of a scope from one load", async () => {
    const feed = feedOf(pubSub, load);
    const subscribers = Array.from({ length: 100 }, () => reader(feed.subscribe("all", "all")));
    await elapse();
    expect(loads).toBe(1);
    value = 3;
    pubSub.publish(CHANGED, {});
    await elapse(INTERVAL_MS);
    expect(loads).toBe(2);
    for (const subscriber of subscribers) expect(subscriber.values).toEqual([{ depth: 0 }, { depth: 3 }]);
  });

  it("gives a later subscriber the shared current value without loading again", async () => {
    const feed = feedOf(pubSub, load);
    reader(feed.subscribe("all", "all"));
    await elapse();
    const late = reader(feed.subscribe("all", "all"));
    await elapse();
    expect(late.values).toEqual([{ depth: 0 }]);
    expect(loads).toBe(1);
  });

  it("keeps only the newest value for a subscriber that is not reading", async () => {
    const feed = feedOf(pubSub, load);
    const slow = feed.subscribe("all", "all");
    for (let i = 1; i <= 5; i++) {
      value = i;
      pubSub.publish(CHANGED, {});
      await elapse(INTERVAL_MS);
    }
    expect(loads).toBe(6);
    expect(await slow.next()).toEqual({ value: { depth: 5 }, done: false });
    await slow.return!();
  });

  it("reloads only the scopes a change concerns", async () => {
    const scopedLoads: string[] = [];
    const feed = feedOf(
      pubSub,
      async (scope) => {
        scopedLoads.push(scope);
        return { scope, depth: value };
      },
      (payload, scope) => (payload as { operatorId: string }).operatorId === scope,
    );
    reader(feed.subscribe("op-a", "op-a"));
    reader(feed.subscribe("op-b", "op-b"));
    await elapse(INTERVAL_MS);
    pubSub.publish(CHANGED, { operatorId: "op-b" });
    await elapse(INTERVAL_MS);
    expect(scopedLoads.sort()).toEqual(["op-a", "op-b", "op-b"]);
  });

  it("keeps subscribers through a failed load and retries after the interval", async () => {
    let fail = false;
    const feed = feedOf(pubSub, async () => {
      loads += 1;
      if (fail) throw new Error("database unavailable");
      return { depth: value };
    });
    const subscriber = reader(feed.subscribe("all", "all"));
    await elapse(INTERVAL_MS);
    fail = true;
    value = 9;
    pubSub.publish(CHANGED, {});
    await elapse();
    expect(loads).toBe(2);
    fail = false;
    await elapse(INTERVAL_MS);
    expect(loads).toBe(3);
    expect(subscriber.values).toEqual([{ depth: 0 }, { depth: 9 }]);
    expect(subscriber.ended).toBe(false);
  });

  it("lets go of everything when the last subscriber leaves", async () => {
    const feed = feedOf(pubSub, load);
    const subscribers = [feed.subscribe("a", "a"), feed.subscribe("a", "a"), feed.subscribe("b", "b")];
    await elapse();
    expect(feed.stats()).toEqual({ scopes: 2, subscribers: 3 });
    expect(pubSub.subscriberCount(CHANGED)).toBe(1);
    value = 1;
    pubSub.publish(CHANGED, {});
    for (const subscriber of subscribers) await subscriber.return!();
    expect(feed.stats()).toEqual({ scopes: 0, subscribers: 0 });
    expect(pubSub.stats()).toEqual({});
    // The pending trailing load has nobody to serve: no load happens.
    const before = loads;
    await elapse(5 * INTERVAL_MS);
    expect(loads).toBe(before);
    expect(vi.getTimerCount()).toBe(0);
  });
  it("with sameState, does not push a reload whose compared part is unchanged, but does after a resync", async () => {
    let sampledAt = 0;
    const feed = new StateFeed<{ depth: number; sampledAt: number }, string>(pubSub, {
      name: "test",
      changeTopics: [CHANGED],
      intervalMs: INTERVAL_MS,
      load: async () => ({ depth: value, sampledAt: ++sampledAt }),
      sameState: (previous, next) => previous.depth === next.depth,
      log: createLogger("silent"),
    });
    const subscriber = reader(feed.subscribe("all", "all"));
    await elapse();
    expect(subscriber.values).toEqual([{ depth: 0, sampledAt: 1 }]);

    pubSub.publish(CHANGED, {});
    await elapse(INTERVAL_MS);
    expect(sampledAt).toBe(2);
    expect(subscriber.values).toHaveLength(1);

    value = 3;
    pubSub.publish(CHANGED, {});
    await elapse(INTERVAL_MS);
    expect(subscriber.values.at(-1)).toEqual({ depth: 3, sampledAt: 3 });

    pubSub.publish(LIVE_RESYNC, { reason: "reconnected" });
    await elapse(INTERVAL_MS);
    expect(subscriber.values.at(-1)).toEqual({ depth: 3, sampledAt: 4 });
    await subscriber.iterator.return!();
  });
});
