import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DeliveryReplayBatchDocument,
  ReplayDeliveryDocument,
  ReplayEventDocument,
  ReplayFailedDeliveriesDocument,
} from "../generated/graphql";
import { graphql, graphqlOk } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { insertOperator } from "../helpers/tenants";
import { waitFor } from "../helpers/wait-for";
import { WebhookReceiver } from "../helpers/webhook-receiver";
import { attemptsOf, conversionData, createEndpoint, publish, waitForDeliveryState } from "../helpers/webhooks";

/** Schedule 1s: two attempts per series, so deliveries die fast. */
let hub: TestHub;
const receivers: WebhookReceiver[] = [];
async function receiver(...args: Parameters<typeof WebhookReceiver.start>): Promise<WebhookReceiver> {
  const started = await WebhookReceiver.start(...args);
  receivers.push(started);
  return started;
}

beforeAll(async () => {
  hub = await startTestHub({ env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_RETRY_SCHEDULE: "1s", WEBHOOK_TIMEOUT_MS: "10000" } });
});
afterAll(async () => {
  await hub?.stop();
  await Promise.all(receivers.map((r) => r.close()));
});

async function ownedEndpoint(target: WebhookReceiver) {
  const operator = await insertOperator(hub.hub.orm.em.fork());
  const { endpoint } = await createEndpoint(hub, { url: target.url(), ownerOperatorId: operator.id });
  return { operatorId: operator.id, endpoint };
}

describe("replays", () => {
  it("replayDelivery starts a fresh series, logged as a replay, with the same webhook-id", async () => {
    const target = await receiver(() => ({ status: 500 }));
    const { operatorId, endpoint } = await ownedEndpoint(target);
    const event = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId }), operatorId });
    const dead = await waitForDeliveryState(hub, event.id, endpoint.id, ["dead"]);

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    target.respond(async () => {
      await gate;
      return { status: 200 };
    });
    const { replayDelivery } = await graphqlOk(hub.graphqlUrl, ReplayDeliveryDocument, { variables: { deliveryId: dead.id }, apiKey: hub.adminKey });
    expect(replayDelivery).toMatchObject({ id: dead.id, state: "PENDING", series: 1, replay: true, attemptCount: 0 });

    // While its attempt is in flight, another replay is refused rather than sent twice.
    await target.waitForRequests(3);
    const busy = await graphql(hub.graphqlUrl, ReplayDeliveryDocument, { variables: { deliveryId: dead.id }, apiKey: hub.adminKey });
    expect(busy.errors?.[0]?.extensions?.code).toBe("DELIVERY_IN_FLIGHT");
    release();

    await waitForDeliveryState(hub, event.id, endpoint.id, ["succeeded"]);
    const attempts = await attemptsOf(hub, dead.id);
    expect(attempts.map((a) => [a.series, a.attempt_number, a.replay, a.succeeded])).toEqual([
      [0, 1, false, false],
      [0, 2, false, false],
      [1, 1, true, true],
    ]);
    expect(new Set(target.requests.map((r) => r.messageId))).toEqual(new Set([event.id]));
  });

  it("replayEvent redelivers to every endpoint that matches now, including ones added since", async () => {
    const first = await receiver();
    const { operatorId, endpoint } = await ownedEndpoint(first);
    const event = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId }), operatorId });
    await waitForDeliveryState(hub, event.id, endpoint.id, ["succeeded"]);
    const added = await receiver();
    const { endpoint: later } = await createEndpoint(hub, { url: added.url(), ownerOperatorId: operatorId });

    const { replayEvent } = await graphqlOk(hub.graphqlUrl, ReplayEventDocument, { variables: { eventId: event.id }, apiKey: hub.adminKey });
    expect(replayEvent.map((d) => d.endpointId).sort()).toEqual([endpoint.id, later.id].sort());
    expect(replayEvent.every((d) => d.replay && d.state === "PENDING")).toBe(true);

    await waitForDeliveryState(hub, event.id, endpoint.id, ["succeeded"]);
    const fresh = await waitForDeliveryState(hub, event.id, later.id, ["succeeded"]);
    expect(first.requests.map((r) => r.messageId)).toEqual([event.id, event.id]);
    expect(added.requests.map((r) => r.messageId)).toEqual([event.id]);
    expect((await attemptsOf(hub, fresh.id))[0]).toMatchObject({ series: 0, attempt_number: 1, replay: true, succeeded: true });
  });

  it("replayFailedDeliveries replays the window's failed and dead deliveries in the background", async () => {
    let receiverFixed = false;
    const broken = (body: string) => (JSON.parse(body) as { data: { sub1?: string } }).data.sub1 === "break me";
    const target = await receiver((request) => ({ status: !receiverFixed && broken(request.body) ? 500 : 200 }));
    const { operatorId, endpoint } = await ownedEndpoint(target);
    const since = new Date(Date.now() - 60_000);
    const healthy = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId }), operatorId });
    const failed = [];
    for (let i = 0; i < 3; i++) {
      failed.push(await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId, sub1: "break me" }), operatorId }));
    }
    await waitForDeliveryState(hub, healthy.id, endpoint.id, ["succeeded"]);
    for (const event of failed) await waitForDeliveryState(hub, event.id, endpoint.id, ["dead"]);

    receiverFixed = true;
    const { replayFailedDeliveries } = await graphqlOk(hub.graphqlUrl, ReplayFailedDeliveriesDocument, {
      variables: { endpointId: endpoint.id, since: since.toISOString() },
      apiKey: hub.adminKey,
    });
    expect(replayFailedDeliveries).toMatchObject({ endpointId: endpoint.id, state: "QUEUED", replayed: 0 });
    const done = await waitFor(async () => {
      const { deliveryReplayBatch } = await graphqlOk(hub.graphqlUrl, DeliveryReplayBatchDocument, { variables: { id: replayFailedDeliveries.id }, apiKey: hub.adminKey });
      return deliveryReplayBatch.state === "DONE" ? deliveryReplayBatch : undefined;
    }, { what: "the replay batch to finish" });
    expect(done).toMatchObject({ matched: 3, replayed: 3, error: null });
    for (const event of failed) {
      const delivery = await waitForDeliveryState(hub, event.id, endpoint.id, ["succeeded"]);
      expect((await attemptsOf(hub, delivery.id)).map((a) => [a.series, a.replay, a.succeeded])).toEqual([
        [0, false, false],
        [0, false, false],
        [1, true, true],
      ]);
    }
    // The healthy delivery was not part of it.
    const untouched = await waitForDeliveryState(hub, healthy.id, endpoint.id, ["succeeded"]);
    expect(await attemptsOf(hub, untouched.id)).toHaveLength(1);
  });

  it("bounds replayFailedDeliveries to a 14-day window", async () => {
    const target = await receiver();
    const { endpoint } = await ownedEndpoint(target);
    const tooWide = await graphql(hub.graphqlUrl, ReplayFailedDeliveriesDocument, {
      variables: { endpointId: endpoint.id, since: new Date(Date.now() - 15 * 86_400_000).toISOString() },
      apiKey: hub.adminKey,
    });
    expect(tooWide.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "since" });
    expect(tooWide.errors?.[0]?.message).toMatch(/14 days/);
    const backwards = await graphql(hub.graphqlUrl, ReplayFailedDeliveriesDocument, {
      variables: { endpointId: endpoint.id, since: new Date().toISOString(), until: new Date(Date.now() - 1_000).toISOString() },
      apiKey: hub.adminKey,
    });
    expect(backwards.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});
