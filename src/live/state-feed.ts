import type { Logger } from "../common/logger";
import type { LocalPubSub } from "./local-pubsub";
import { LIVE_RESYNC } from "./topics";

export interface StateFeedOptions<T, S> {
  /** For logs. */
  name: string;
  /** Topics that mean "the state may have changed": each makes the affected scopes reload. */
  changeTopics: readonly string[];
  /** Loads (and pushes) at most once per this interval per scope. */
  intervalMs: number;
  /** Loads the current value for one scope; gets a fresh EntityManager fork itself. */
  load: (scope: S) => Promise<T>;
  /** Whether a change message concerns a scope (default: every scope reloads). */
  affects?: (payload: unknown, scope: S) => boolean;
  /**
   * Whether two loaded values are the same state, so the newer is not pushed (default: equal
   * JSON). For values with fields that move on their own (a sample time, an age), compare the
   * rest, or every reload would push.
   */
  sameState?: (previous: T, next: T) => boolean;
  log: Logger;
}

/**
 * One subscriber's mailbox: only the newest value waits, so a slow reader receives
 * the latest state when it catches up and memory never grows with its lag.
 */
class LatestValueSlot<T> implements AsyncIterableIterator<T> {
  private pending: { value: T } | undefined;
  private wake: ((result: IteratorResult<T>) => void) | undefined;
  private done = false;

  constructor(private readonly onReturn: (slot: LatestValueSlot<T>) => void) {}

  push(value: T): void {
    if (this.done) return;
    if (this.wake) {
      const resolve = this.wake;
      this.wake = undefined;
      resolve({ value, done: false });
    } else {
      this.pending = { value };
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.pending) {
      const { value } = this.pending;
      this.pending = undefined;
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.wake = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.done) {
      this.done = true;
      this.pending = undefined;
      this.onReturn(this);
      this.wake?.({ value: undefined, done: true });
      this.wake = undefined;
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/** The shared state of one scope: its subscribers, last value and throttle. */
class ScopeState<T, S> {
  readonly slots = new Set<LatestValueSlot<T>>();
  value: { data: T; json: string } | undefined;
  dirty = true;
  forcePush = false;
  loading = false;
  lastLoadAt = Number.NEGATIVE_INFINITY;
  timer: NodeJS.Timeout | undefined;

  constructor(readonly scope: S) {}
}

/**
 * A "state" subscription source (queue depth and the like), shared by every subscriber
 * in this process who sees the same scope. It pushes:
 * - once on subscribe (the shared current value, or a first load),
 * - after a change message, at most once per `intervalMs` per scope (changes in between
 *   are coalesced into one load), and only when the value differs from the last push,
 * - after LIVE_RESYNC (the listener reconnected), always, so nobody keeps a stale number.
 * One load serves all subscribers of a scope, however many there are.
 */
export class StateFeed<T, S> {
  private readonly scopes = new Map<string, ScopeState<T, S>>();
  private unlisten: Array<() => void> = [];

  constructor(private readonly pubSub: LocalPubSub, private readonly options: StateFeedOptions<T, S>) {}

  subscribe(key: string, scope: S): AsyncIterableIterator<T> {
    let state = this.scopes.get(key);
    if (!state) {
      state = new ScopeState<T, S>(scope);
      this.scopes.set(key, state);
      this.listenIfNeeded();
    }
    const owner = state;
    const slot = new LatestValueSlot<T>((gone) => this.unsubscribe(key, owner, gone));
    state.slots.add(slot);
    if (state.value) slot.push(state.value.data);
    this.schedule(state);
    return slot;
  }

  /** Scopes and subscribers currently held: zero of each once everyone has left. */
  stats(): { scopes: number; subscribers: number } {
    let subscribers = 0;
    for (const state of this.scopes.values()) subscribers += state.slots.size;
    return { scopes: this.scopes.size, subscribers };
  }

  private listenIfNeeded(): void {
    if (this.unlisten.length > 0) return;
    for (const topic of this.options.changeTopics) {
      this.unlisten.push(this.pubSub.listen(topic, (payload) => this.changed(payload)));
    }
    this.unlisten.push(this.pubSub.listen(LIVE_RESYNC, () => this.resync()));
  }

  private unsubscribe(key: string, state: ScopeState<T, S>, slot: LatestValueSlot<T>): void {
    state.slots.delete(slot);
    if (state.slots.size > 0 || this.scopes.get(key) !== state) return;
    clearTimeout(state.timer);
    this.scopes.delete(key);
    if (this.scopes.size === 0) {
      for (const stop of this.unlisten) stop();
      this.unlisten = [];
    }
  }

  private changed(payload: unknown): void {
    for (const state of this.scopes.values()) {
      if (this.options.affects && !this.options.affects(payload, state.scope)) continue;
      state.dirty = true;
      this.schedule(state);
    }
  }

  private resync(): void {
    for (const state of this.scopes.values()) {
      state.dirty = true;
      state.forcePush = true;
      this.schedule(state);
    }
  }

  /** Leading edge when the interval has passed, else one trailing load at its end. */
  private schedule(state: ScopeState<T, S>): void {
    if (!state.dirty || state.loading || state.timer || state.slots.size === 0) return;
    const waitMs = state.lastLoadAt + this.options.intervalMs - Date.now();
    if (waitMs <= 0) {
      void this.load(state);
      return;
    }
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void this.load(state);
    }, waitMs);
  }

  private async load(state: ScopeState<T, S>): Promise<void> {
    if (state.slots.size === 0) return;
    state.loading = true;
    state.dirty = false;
    const force = state.forcePush;
    state.forcePush = false;
    state.lastLoadAt = Date.now();
    try {
      const data = await this.options.load(state.scope);
      const json = JSON.stringify(data);
      const same = state.value !== undefined && (this.options.sameState ? this.options.sameState(state.value.data, data) : state.value.json === json);
      if (force || !same) {
        state.value = { data, json };
        for (const slot of state.slots) slot.push(data);
      }
    } catch (error) {
      // Keep the subscribers and the last good value; try again after the interval.
      this.options.log.warn({ feed: this.options.name, err: error }, "live state feed could not load; retrying");
      state.dirty = true;
      state.forcePush ||= force;
    } finally {
      state.loading = false;
    }
    this.schedule(state);
  }
}
