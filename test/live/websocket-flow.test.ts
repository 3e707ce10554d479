import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "graphql-ws";
import { notifyLiveMany } from "../../src/live/notify";
import type { StateFeed } from "../../src/live/state-feed";
import type { LiveProbeMessage } from "../../src/live/topics";
import { subscribe, wsClient } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { disposeAll, metricValue, RawGraphqlSocket } from "../helpers/live";
import { waitFor } from "../helpers/wait-for";

const PROBES = "subscription { liveProbes { probeId sentBy { role version } answeredBy { role version } receivedBy { role version } } }";

function fakeProbe(n: number, tag: string): LiveProbeMessage {
  const process = { role: "test", hostname: "test-host", pid: 1, version: "0.0.0" };
  const now = new Date().toISOString();
  return { probeId: `${tag}-${n}`, route: "API", sentAt: now, sentBy: process, answeredAt: now, answeredBy: process, operatorId: null, affiliateId: null };
}

async function metrics(hub: TestHub): Promise<string> {
  return hub.hub.metrics.metrics();
}

describe("keep-alive", () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ env: { WS_KEEPALIVE_MS: "400" } });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it("pings connections, keeps those that answer and terminates those that do not", async () => {
    const answering = await RawGraphqlSocket.connect(hub.websocketUrl, { apiKey: hub.adminKey });
    const silent = await RawGraphqlSocket.connect(hub.websocketUrl, { apiKey: hub.adminKey }, { autoPong: false });
    expect(answering.acknowledged && silent.acknowledged).toBe(true);

    const closed = await silent.closed;
    expect(closed.code).toBe(1006); // terminated: no close handshake with a peer that does not answer
    expect(silent.pings).toBeGreaterThanOrEqual(1);
    await waitFor(() => answering.pings >= 3, { what: "more pings to the answering client", timeoutMs: 20_000 });
    expect(answering.ws.readyState).toBe(answering.ws.OPEN);
    expect(metricValue(await metrics(hub), 'hub_ws_closed_by_server_total{reason="keepalive"}')).toBe(1);
    answering.ws.close();
  });
});

describe("slow subscribers and cleanup", () => {
  let hub: TestHub;
  beforeAll(async () => {
    // Long keep-alive so only the slow-subscriber rule can end the paused client.
    hub = await startTestHub({ env: { WS_KEEPALIVE_MS: "600000", WS_MAX_QUEUED_EVENTS: "500" } });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it("closes a client that stops reading with 4008, while a healthy client misses nothing", async () => {
    const pubSub = hub.hub.pubSub;
    const healthy = wsClient(hub.websocketUrl, hub.adminKey);
    const healthySub = subscribe<{ liveProbes: { probeId: string } }>(healthy, PROBES);
    await waitFor(() => pubSub.subscriberCount("live.probe") === 1, { what: "the healthy subscription" });

    // Many subscriptions on one connection multiply what the server has to send it.
    const slow = await RawGraphqlSocket.connect(hub.websocketUrl, { apiKey: hub.adminKey });
    for (let i = 0; i < 40; i++) slow.subscribe(`s${i}`, PROBES);
    await waitFor(() => pubSub.subscriberCount("live.probe") === 41, { what: "the slow client's subscriptions" });
    slow.tcp.pause();

    const em = hub.hub.orm.em.fork();
    let sent = 0;
    await waitFor(
      async () => {
        if (metricValue(await metrics(hub), 'hub_ws_closed_by_server_total{reason="slow"}') >= 1) return true;
        // The healthy client keeps up between batches, so only the paused one falls behind.
        await healthySub.waitFor((events) => events.length >= sent, 30_000);
        await notifyLiveMany(em, "live.probe", Array.from({ length: 50 }, () => fakeProbe(sent++, "flood")));
        return false;
      },
      { timeoutMs: 60_000, intervalMs: 50, what: "the server to give up on the paused client" },
    );
    // Its subscriptions are gone at once, although it has not read its close frame yet.
    await waitFor(() => pubSub.subscriberCount("live.probe") === 1, { what: "the slow client's subscriptions to end" });
    slow.tcp.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(4008);
    expect(closed.reason).toMatch(/^SLOW_CONSUMER: Subscriber fell behind on live\.probe/);

    // Everything sent so far reached the healthy client, in order.
    await healthySub.waitFor((events) => events.length >= sent, 60_000);
    expect(healthySub.events.map((event) => event.data?.liveProbes.probeId)).toEqual(Array.from({ length: sent }, (_, n) => `flood-${n}`));
    await healthy.dispose();
  });

  it("cleans up every listener of subscribers that disconnect, abruptly or not", async () => {
    const pubSub = hub.hub.pubSub;
    await waitFor(() => pubSub.subscriberCount("live.probe") === 0, { what: "earlier subscribers to be gone" });
    const baseline = pubSub.stats();
    const jobQueueFeed = () => pubSub.shared<StateFeed<unknown, unknown> | undefined>("state:jobQueue", () => undefined);

    const polite: Client[] = [];
    const polites = Array.from({ length: 10 }, () => {
      const client = wsClient(hub.websocketUrl, hub.adminKey);
      polite.push(client);
      return [subscribe(client, "subscription { jobQueueChanged { due } }"), subscribe(client, PROBES), subscribe(client, "subscription { heartbeat(intervalMs: 100) { role } }")];
    });
    const abrupt = await Promise.all(Array.from({ length: 10 }, () => RawGraphqlSocket.connect(hub.websocketUrl, { apiKey: hub.adminKey })));
    for (const socket of abrupt) {
      socket.subscribe("q", "subscription { jobQueueChanged { due } }");
      socket.subscribe("p", PROBES);
    }
    for (const [queue] of polites) await queue!.waitFor((events) => events.length >= 1);
    for (const socket of abrupt) await socket.waitForMessage((m) => m.type === "next" && m.id === "q");
    expect(pubSub.subscriberCount("live.probe")).toBe(20);
    expect(jobQueueFeed()?.stats()).toEqual({ scopes: 1, subscribers: 20 });
    expect(metricValue(await metrics(hub), "hub_ws_connections")).toBe(20);

    for (const socket of abrupt) socket.ws.terminate(); // TCP gone, no close frame
    await disposeAll(polite);

    await waitFor(async () => metricValue(await metrics(hub), "hub_ws_connections") === 0, { what: "every connection to be gone" });
    await waitFor(() => JSON.stringify(pubSub.stats()) === JSON.stringify(baseline), { what: "the pub/sub to be back to its baseline" });
    expect(jobQueueFeed()?.stats()).toEqual({ scopes: 0, subscribers: 0 });
  });
});
