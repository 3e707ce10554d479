import type { PubSub } from "type-graphql";

type Listener = (payload: unknown) => void;

/** Bounded per subscriber: a consumer that stops reading loses the oldest events, never grows memory. */
const MAX_BUFFERED_PER_SUBSCRIBER = 1_000;

/** A subscriber's queue overflowed: it cannot keep up with the events it asked for. */
export class SubscriberTooSlowError extends Error {
  constructor(readonly topic: string, readonly limit: number) {
    super(`Subscriber fell behind on ${topic}: ${limit} events waiting`);
    this.name = "SubscriberTooSlowError";
  }
}

/** A count shared by several streams (one connection's subscriptions): room for one more event? */
export interface QueueBudget {
  take(): boolean;
  give(count: number): void;
}

export interface EventStreamOptions<T> {
  /** Applied as events arrive, so events the subscriber may not see never take queue space. */
  filter?: (payload: T) => boolean;
  /** Events that may wait for the consumer; default 1000. */
  maxQueued?: number;
  /** A limit shared with other streams (e.g. all subscriptions of one connection). */
  budget?: QueueBudget;
  /**
   * Called once when the queue overflows; the stream then ends with SubscriberTooSlowError
   * instead of silently losing events. Without it the oldest event is dropped.
   */
  onOverflow?: (error: SubscriberTooSlowError) => void;
}

/**
 * In-process fan-out for subscriptions. The cross-process bridge (Postgres
 * LISTEN/NOTIFY, live-listener.ts) publishes into this, so subscribers only ever read here.
 */
export class LocalPubSub implements PubSub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly sharedByKey = new Map<string, unknown>();

  /** `reportError` receives anything a listener throws; one bad listener never stops the others. */
  constructor(private readonly reportError: (error: unknown, topic: string) => void = () => {}) {}

  publish(routingKey: string, ...args: unknown[]): void {
    const set = this.listeners.get(routingKey);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(args[0]);
      } catch (error) {
        this.reportError(error, routingKey);
      }
    }
  }

  /** A plain callback for in-process consumers; returns the function that removes it. */
  listen(routingKey: string, listener: Listener): () => void {
    // Wrapped so the same function can be added twice and removed once per call.
    const entry: Listener = (payload) => listener(payload);
    const set = this.listeners.get(routingKey) ?? new Set<Listener>();
    set.add(entry);
    this.listeners.set(routingKey, set);
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.listeners.get(routingKey) === set) this.listeners.delete(routingKey);
    };
  }

  subscriberCount(routingKey: string): number {
    return this.listeners.get(routingKey)?.size ?? 0;
  }

  /** Listener counts per topic: what tests and /metrics use to prove nothing leaks. */
  stats(): Record<string, number> {
    return Object.fromEntries([...this.listeners].map(([topic, set]) => [topic, set.size]));
  }

  /**
   * One object per key for this process, created on first use: shared state feeds
   * live here so every subscriber of a feed shares one loader and one throttle.
   */
  shared<T>(key: string, create: () => T): T {
    if (!this.sharedByKey.has(key)) this.sharedByKey.set(key, create());
    return this.sharedByKey.get(key) as T;
  }

  /** type-graphql's PubSub contract (used by `@Subscription({ topics })`). */
  subscribe(routingKey: string): AsyncIterable<unknown> {
    return { [Symbol.asyncIterator]: () => this.events(routingKey) };
  }

  /**
   * A stream of one topic's events, registered at once so nothing published after
   * this call is missed. The consumer must iterate it or call return().
   */
  events<T = unknown>(routingKey: string, options: EventStreamOptions<T> = {}): AsyncIterableIterator<T> {
    const maxQueued = options.maxQueued ?? MAX_BUFFERED_PER_SUBSCRIBER;
    const queue: T[] = [];
    let wake: ((result: IteratorResult<T>) => void) | undefined;
    let done = false;
    let failure: SubscriberTooSlowError | undefined;

    const finish = (): IteratorResult<T> => {
      done = true;
      options.budget?.give(queue.length);
      queue.length = 0;
      unlisten();
      wake?.({ value: undefined, done: true });
      wake = undefined;
      return { value: undefined, done: true };
    };

    const unlisten = this.listen(routingKey, (raw) => {
      const payload = raw as T;
      if (done || (options.filter && !options.filter(payload))) return;
      if (wake) {
        const resolve = wake;
        wake = undefined;
        resolve({ value: payload, done: false });
        return;
      }
      if (queue.length < maxQueued && (options.budget?.take() ?? true)) {
        queue.push(payload);
        return;
      }
      if (!options.onOverflow) {
        // Make room by dropping the oldest (one out, one in: the budget is unchanged).
        if (queue.length > 0) {
          queue.shift();
          queue.push(payload);
        }
        return;
      }
      failure = new SubscriberTooSlowError(routingKey, maxQueued);
      finish();
      options.onOverflow(failure);
    });

    const iterator: AsyncIterableIterator<T> = {
      next: () => {
        if (queue.length > 0) {
          options.budget?.give(1);
          return Promise.resolve({ value: queue.shift()!, done: false });
        }
        if (failure) {
          const error = failure;
          failure = undefined;
          return Promise.reject(error);
        }
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (wake = resolve));
      },
      return: () => Promise.resolve(finish()),
      throw: (error: unknown) => {
        finish();
        return Promise.reject(error);
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}
