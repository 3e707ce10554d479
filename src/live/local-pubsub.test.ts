import { describe, expect, it } from "vitest";
import { LocalPubSub, SubscriberTooSlowError } from "./local-pubsub";

describe("LocalPubSub", () => {
  it("delivers to every listener of a topic, and a throwing listener does not stop the others", () => {
    const errors: unknown[] = [];
    const pubSub = new LocalPubSub((error) => errors.push(error));
    const seen: unknown[] = [];
    pubSub.listen("t", () => {
      throw new Error("bad listener");
    });
    const stop = pubSub.listen("t", (payload) => seen.push(payload));
    pubSub.publish("t", 1);
    stop();
    pubSub.publish("t", 2);
    expect(seen).toEqual([1]);
    expect(errors).toHaveLength(2);
  });

  it("filters events as they arrive, so hidden events never take queue space", async () => {
    const pubSub = new LocalPubSub();
    const stream = pubSub.events<number>("t", { filter: (n) => n % 2 === 0, maxQueued: 2 });
    for (let n = 1; n <= 5; n++) pubSub.publish("t", n);
    expect(await stream.next()).toEqual({ value: 2, done: false });
    expect(await stream.next()).toEqual({ value: 4, done: false });
    await stream.return!();
  });

  it("ends a stream whose consumer fell behind, once, and reports it", async () => {
    const pubSub = new LocalPubSub();
    const overflows: SubscriberTooSlowError[] = [];
    const stream = pubSub.events<number>("t", { maxQueued: 3, onOverflow: (error) => overflows.push(error) });
    for (let n = 1; n <= 10; n++) pubSub.publish("t", n);
    expect(overflows).toHaveLength(1);
    expect(pubSub.subscriberCount("t")).toBe(0);
    await expect(stream.next()).rejects.toBeInstanceOf(SubscriberTooSlowError);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it("shares a budget between streams: together they may hold only so many events", async () => {
    const pubSub = new LocalPubSub();
    let held = 0;
    const budget = { take: () => (held < 3 ? (held += 1) > 0 : false), give: (count: number) => void (held -= count) };
    const overflows: string[] = [];
    const a = pubSub.events<number>("a", { budget, onOverflow: () => overflows.push("a") });
    const b = pubSub.events<number>("b", { budget, onOverflow: () => overflows.push("b") });
    pubSub.publish("a", 1);
    pubSub.publish("a", 2);
    pubSub.publish("b", 1);
    expect(held).toBe(3);
    expect(await a.next()).toEqual({ value: 1, done: false });
    pubSub.publish("b", 2); // room again after a read
    expect(overflows).toEqual([]);
    pubSub.publish("b", 3);
    expect(overflows).toEqual(["b"]);
    expect(held).toBe(1); // b's queue was released
    await a.return!();
    expect(held).toBe(0);
    await expect(b.next()).rejects.toBeInstanceOf(SubscriberTooSlowError);
  });

  it("without an overflow handler drops the oldest events instead", async () => {
    const pubSub = new LocalPubSub();
    const stream = pubSub.events<number>("t", { maxQueued: 2 });
    for (let n = 1; n <= 5; n++) pubSub.publish("t", n);
    expect(await stream.next()).toEqual({ value: 4, done: false });
    expect(await stream.next()).toEqual({ value: 5, done: false });
    await stream.return!();
  });

  it("removes a stream's listener on return, also while a read is pending", async () => {
    const pubSub = new LocalPubSub();
    const stream = pubSub.events("t");
    const pending = stream.next();
    expect(pubSub.stats()).toEqual({ t: 1 });
    await stream.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(pubSub.stats()).toEqual({});
  });

  it("keeps one shared object per key", () => {
    const pubSub = new LocalPubSub();
    let created = 0;
    const make = () => ({ n: ++created });
    expect(pubSub.shared("k", make)).toBe(pubSub.shared("k", make));
    expect(created).toBe(1);
  });
});
