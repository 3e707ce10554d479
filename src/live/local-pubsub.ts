import type { PubSub } from "type-graphql";

type Listener = (payload: unknown) => void;

/** Bounded per subscriber: a consumer that stops reading loses the oldest events, never grows memory. */
const MAX_BUFFERED_PER_SUBSCRIBER = 1_000;

/**
 * In-process fan-out for type-graphql subscriptions. The cross-process bridge
 * (Postgres LISTEN/NOTIFY) publishes into this, so subscribers only ever read here.
 */
export class LocalPubSub implements PubSub {
  private readonly listeners = new Map<string, Set<Listener>>();

  publish(routingKey: string, ...args: unknown[]): void {
    for (const listener of this.listeners.get(routingKey) ?? []) listener(args[0]);
  }

  subscriberCount(routingKey: string): number {
    return this.listeners.get(routingKey)?.size ?? 0;
  }

  subscribe(routingKey: string): AsyncIterable<unknown> {
    return { [Symbol.asyncIterator]: () => this.iterator(routingKey) };
  }

  private iterator(routingKey: string): AsyncIterator<unknown> {
    const buffer: unknown[] = [];
    let wake: ((result: IteratorResult<unknown>) => void) | undefined;
    let done = false;
    const listener: Listener = (payload) => {
      if (wake) {
        const resolve = wake;
        wake = undefined;
        resolve({ value: payload, done: false });
        return;
      }
      buffer.push(payload);
      if (buffer.length > MAX_BUFFERED_PER_SUBSCRIBER) buffer.shift();
    };
    const set = this.listeners.get(routingKey) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(routingKey, set);
    const finish = (): IteratorResult<unknown> => {
      done = true;
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(routingKey);
      wake?.({ value: undefined, done: true });
      wake = undefined;
      return { value: undefined, done: true };
    };
    return {
      next: () => {
        if (buffer.length > 0) return Promise.resolve({ value: buffer.shift(), done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (wake = resolve));
      },
      return: () => Promise.resolve(finish()),
      throw: (error: unknown) => {
        finish();
        return Promise.reject(error);
      },
    };
  }
}
