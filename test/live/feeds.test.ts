import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "graphql-ws";
import { generateApiKey } from "../../src/auth/api-key-secret";
import { newId } from "../../src/common/ids";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { graphqlOk, subscribe, wsClient } from "../helpers/graphql";
import { generateAdminKey, TEST_ENCRYPTION_KEY } from "../helpers/hub";
import { spawnHub, waitUntilListening, type HubProcess } from "../helpers/hub-process";
import { disposeAll, liveListenerPid } from "../helpers/live";
import { waitFor } from "../helpers/wait-for";
import { WebhookReceiver } from "../helpers/webhook-receiver";
import {
  AlertRaisedDocument,
  ConversionRecordedDocument,
  CreateWebhookEndpointDocument,
  DeliveryAttemptedDocument,
  EnableWebhookEndpointDocument,
  QueueDepthChangedDocument,
  RecordConversionDocument,
  SendTestWebhookDocument,
  type AlertRaisedSubscription,
  type ConversionRecordedSubscription,
  type ConversionStatus,
  type DeliveryAttemptedSubscription,
  type QueueDepthChangedSubscription,
} from "../generated/graphql";

/**
 * The four live feeds with real processes on one database, as deployed: a worker and two
 * api processes. Subscribers connect to api A; every event is produced elsewhere (a
 * mutation on api B, a delivery or an alert in the worker).
 */

let db: TestDatabase;
let adminKey: string;
let worker: HubProcess;
let apiA: HubProcess;
let apiB: HubProcess;
const clients: Client[] = [];
const receivers: WebhookReceiver[] = [];

interface Tenant {
  operatorId: string;
  apiKey: string;
}

function client(apiKey: string, process: HubProcess = apiA): Client {
  const created = wsClient(process.urls!.websocket, apiKey);
  clients.push(created);
  return created;
}

async function receiver(responder?: Parameters<typeof WebhookReceiver.start>[0]): Promise<WebhookReceiver> {
  const started = await WebhookReceiver.start(responder);
  receivers.push(started);
  return started;
}

async function insertOperatorWithKey(name: string): Promise<Tenant> {
  const operatorId = newId();
  // Unsigned: these tests record conversions over GraphQL with the key alone (signing has its own tests).
  await db.query("insert into operator (id, created_at, name, require_signature) values ($1, now(), $2, false)", [operatorId, name]);
  const key = generateApiKey();
  await db.query(
    "insert into api_key (id, created_at, name, role, operator_id, prefix, key_hash) values ($1, now(), 'test', 'OPERATOR', $2, $3, $4)",
    [newId(), operatorId, key.prefix, key.hash],
  );
  return { operatorId, apiKey: key.secret };
}

/** An endpoint the tenant owns, created through api B. */
async function createEndpoint(tenant: Tenant, url: string, eventTypes?: string[]): Promise<string> {
  const data = await graphqlOk(apiB.urls!.graphql, CreateWebhookEndpointDocument, { apiKey: tenant.apiKey, variables: { input: { url, eventTypes } } });
  return data.createWebhookEndpoint.endpoint.id;
}

/** A conversion (or, with the same eventId, its status change) recorded through api B. */
async function recordConversion(tenant: Tenant, eventId: string = newId(), status: ConversionStatus = "PENDING" as ConversionStatus): Promise<string> {
  const data = await graphqlOk(apiB.urls!.graphql, RecordConversionDocument, {
    apiKey: tenant.apiKey,
    variables: { input: { event: "ftd", eventId, customerId: `customer-${eventId}`, amount: "25.00", currency: "EUR", status } },
  });
  return data.recordConversion.conversion.id;
}

/**
 * Produces until `seen` holds, and returns what it returned. A subscription is only live
 * once its server has set it up, which the client cannot see; the first event it gets proves it.
 */
async function produceUntilSeen<T>(produce: () => Promise<unknown>, seen: () => T | undefined, what: string): Promise<T> {
  return waitFor(
    async () => {
      await produce();
      await waitFor(seen, { timeoutMs: 2_000, what }).catch(() => undefined);
      return seen();
    },
    { timeoutMs: 60_000, intervalMs: 50, what },
  );
}

function codesOf(sub: { events: Array<{ errors?: unknown }> }): string[] {
  return sub.events.flatMap((event) => ((event.errors as Array<{ extensions?: { code?: string } }> | undefined) ?? []).map((e) => e.extensions?.code ?? "?"));
}


beforeAll(async () => {
  db = await createTestDatabase();
  adminKey = generateAdminKey();
  const env = {
    DATABASE_URL: db.url,
    HUB_ADMIN_KEY: adminKey,
    HUB_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    WORKER_POLL_INTERVAL_MS: "200",
    QUEUE_DEPTH_PUSH_INTERVAL_MS: "200",
    QUEUE_SAMPLE_INTERVAL_MS: "200",
    WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
    // A quick retry, then an hour: a failing endpoint's delivery stays in the queue.
    WEBHOOK_RETRY_SCHEDULE: "300ms,1h",
  };
  worker = spawnHub({ ...env, HUB_ROLE: "worker" });
  apiA = spawnHub({ ...env, HUB_ROLE: "api" });
  apiB = spawnHub({ ...env, HUB_ROLE: "api" });
  await Promise.all([worker, apiA, apiB].map((process) => waitUntilListening(process)));
});

afterAll(async () => {
  await disposeAll(clients);
  await Promise.all([worker, apiA, apiB].map((process) => process?.stop()));
  await Promise.all(receivers.map((r) => r.close()));
  await db?.drop();
});

describe("conversionRecorded", () => {
  it("brings new conversions and status changes to their operator and admins only", async () => {
    const a = await insertOperatorWithKey("conversions A");
    const b = await insertOperatorWithKey("conversions B");
    const onA = subscribe<ConversionRecordedSubscription>(client(a.apiKey), ConversionRecordedDocument);
    const onB = subscribe<ConversionRecordedSubscription>(client(b.apiKey), ConversionRecordedDocument);
    const adminOnA = subscribe<ConversionRecordedSubscription>(client(adminKey), ConversionRecordedDocument, { operatorId: a.operatorId });
    const idsOf = (sub: typeof onA) => sub.events.map((event) => event.data?.conversionRecorded.conversion.id);

    // Each subscription is live once it has seen one of its own.
    await produceUntilSeen(() => recordConversion(b), () => (onB.events.length > 0 ? true : undefined), "B's subscription to be live");
    const produced: string[] = [];
    await produceUntilSeen(
      async () => produced.push(await recordConversion(a)),
      () => (idsOf(onA).some((id) => produced.includes(id!)) && idsOf(adminOnA).some((id) => produced.includes(id!)) ? true : undefined),
      "A's and the admin's subscriptions to be live",
    );

    const eventId = newId();
    const conversionId = await recordConversion(a, eventId, "PENDING" as ConversionStatus);
    await recordConversion(a, eventId, "APPROVED" as ConversionStatus);
    for (const sub of [onA, adminOnA]) {
      const mine = await sub.waitFor((events) => events.filter((e) => e.data?.conversionRecorded.conversion.id === conversionId).length >= 2, 30_000);
      const changes = mine.filter((e) => e.data?.conversionRecorded.conversion.id === conversionId).map((e) => e.data!.conversionRecorded);
      expect(changes).toMatchObject([
        { kind: "RECORDED", status: "PENDING", previousStatus: null, conversion: { operatorId: a.operatorId, amount: "25", currency: "EUR" } },
        { kind: "STATUS_CHANGED", status: "APPROVED", previousStatus: "PENDING", conversion: { status: "APPROVED" } },
      ]);
      expect(changes[0]!.eventId).not.toBe(changes[1]!.eventId);
    }

    // B's stream is ordered: had any of A's reached it, it would precede B's next own.
    const lastOfB = await recordConversion(b);
    await onB.waitFor((events) => events.some((e) => e.data?.conversionRecorded.conversion.id === lastOfB), 30_000);
    expect(onB.events.every((e) => e.data?.conversionRecorded.conversion.operatorId === b.operatorId)).toBe(true);
    expect(adminOnA.events.every((e) => e.data?.conversionRecorded.conversion.operatorId === a.operatorId)).toBe(true);
  });

  it("refuses an operator key that asks for another operator's conversions with FORBIDDEN", async () => {
    const a = await insertOperatorWithKey("nosy A");
    const b = await insertOperatorWithKey("nosy B");
    const nosy = subscribe<ConversionRecordedSubscription>(client(a.apiKey), ConversionRecordedDocument, { operatorId: b.operatorId });
    await nosy.waitFor(() => nosy.completed || nosy.events.length > 0, 15_000);
    expect(codesOf(nosy)).toEqual(["FORBIDDEN"]);
  });
});

describe("deliveryAttempted", () => {
  it("reports each attempt the worker logs to the endpoint's owner, and refuses another operator's endpoint", async () => {
    const a = await insertOperatorWithKey("deliveries A");
    const b = await insertOperatorWithKey("deliveries B");
    let failNext = false;
    const hookA = await receiver(() => {
      if (!failNext) return { status: 200 };
      failNext = false;
      return { status: 500, body: "try again" };
    });
    const hookB = await receiver();
    const endpointA = await createEndpoint(a, hookA.url(), ["conversion.recorded"]);
    const endpointB = await createEndpoint(b, hookB.url(), ["conversion.recorded"]);

    const refused = subscribe<DeliveryAttemptedSubscription>(client(b.apiKey), DeliveryAttemptedDocument, { endpointId: endpointA });
    await refused.waitFor(() => refused.completed || refused.events.length > 0, 15_000);
    expect(codesOf(refused)).toEqual(["FORBIDDEN"]);

    const onA = subscribe<DeliveryAttemptedSubscription>(client(a.apiKey), DeliveryAttemptedDocument, { endpointId: endpointA });
    const onB = subscribe<DeliveryAttemptedSubscription>(client(b.apiKey), DeliveryAttemptedDocument);
    const admin = subscribe<DeliveryAttemptedSubscription>(client(adminKey), DeliveryAttemptedDocument);
    const endpointsOf = (sub: typeof onA) => sub.events.map((event) => event.data?.deliveryAttempted.endpointId);
    await produceUntilSeen(() => recordConversion(b), () => (endpointsOf(onB).includes(endpointB) ? true : undefined), "B's subscription to be live");
    await produceUntilSeen(
      () => recordConversion(a),
      () => (endpointsOf(onA).includes(endpointA) && endpointsOf(admin).includes(endpointA) ? true : undefined),
      "A's and the admin's subscriptions to be live",
    );

    // One delivery: the first attempt fails, the retry (300 ms later) succeeds; both are told.
    failNext = true;
    const before = onA.events.length;
    await recordConversion(a);
    const events = await onA.waitFor((all) => all.slice(before).some((e) => e.data?.deliveryAttempted.succeeded && e.data.deliveryAttempted.attemptNumber === 2), 30_000);
    const attempts = events.slice(before).map((e) => e.data!.deliveryAttempted);
    const deliveryId = attempts.find((attempt) => !attempt.succeeded)!.deliveryId;
    expect(attempts.filter((attempt) => attempt.deliveryId === deliveryId)).toMatchObject([
      { endpointId: endpointA, attemptNumber: 1, succeeded: false, httpStatus: 500, errorClass: "HTTP", nextAttemptAt: expect.any(String), worker: expect.stringMatching(`:${worker.child.pid}$`) },
      { endpointId: endpointA, attemptNumber: 2, succeeded: true, httpStatus: 200, errorClass: null, nextAttemptAt: null },
    ]);
    await admin.waitFor((all) => all.filter((e) => e.data?.deliveryAttempted.deliveryId === deliveryId).length === 2, 30_000);

    // B's stream is ordered: A's attempts would precede B's next own.
    const told = onB.events.length;
    await recordConversion(b);
    await onB.waitFor((all) => all.length > told, 30_000);
    expect(new Set(endpointsOf(onB))).toEqual(new Set([endpointB]));
    expect(new Set(endpointsOf(onA))).toEqual(new Set([endpointA]));
  });
});

describe("queueDepthChanged", () => {
  type Depth = QueueDepthChangedSubscription["queueDepthChanged"];
  const pendingOf = (depth: Depth | undefined, endpointId: string) => depth?.endpoints.find((e) => e.endpointId === endpointId)?.pending;

  it("100 concurrent subscribers all receive a change the worker announces; tenants see their own endpoints only", async () => {
    const a = await insertOperatorWithKey("queue A");
    const b = await insertOperatorWithKey("queue B");
    const sink = await receiver(() => ({ status: 500 }));
    const endpointA = await createEndpoint(a, sink.url(), ["conversion.recorded"]);

    const subscribers = Array.from({ length: 100 }, () => subscribe<QueueDepthChangedSubscription>(client(adminKey), QueueDepthChangedDocument));
    const tenantA = subscribe<QueueDepthChangedSubscription>(client(a.apiKey), QueueDepthChangedDocument);
    const tenantB = subscribe<QueueDepthChangedSubscription>(client(b.apiKey), QueueDepthChangedDocument);
    for (const sub of [...subscribers, tenantA, tenantB]) await sub.waitFor((events) => events.length >= 1, 30_000);
    expect(pendingOf(subscribers[0]!.events[0]!.data!.queueDepthChanged, endpointA)).toBe(0);
    expect(tenantA.events[0]!.data!.queueDepthChanged.endpoints.map((e) => e.endpointId)).toEqual([endpointA]);
    expect(tenantB.events[0]!.data!.queueDepthChanged).toMatchObject({ pending: 0, endpoints: [] });

    await recordConversion(a);
    const sawOne = (events: Array<{ data?: QueueDepthChangedSubscription | null }>) => events.some((e) => pendingOf(e.data?.queueDepthChanged, endpointA) === 1);
    await Promise.all([...subscribers, tenantA].map((sub) => sub.waitFor(sawOne, 60_000)));
    for (const sub of [...subscribers, tenantA, tenantB]) expect(sub.error).toBeUndefined();
    // B's share never moved, so B was never told anything after the first value.
    expect(tenantB.events).toHaveLength(1);
    await disposeAll(clients.splice(0));
  });

  it("after its listener's backend is terminated, an api process reconnects and pushes fresh queue depth", async () => {
    const subscribers = Array.from({ length: 5 }, () => subscribe<QueueDepthChangedSubscription>(client(adminKey), QueueDepthChangedDocument));
    await Promise.all(subscribers.map((sub) => sub.waitFor((events) => events.length >= 1, 30_000)));
    // Settled: nothing in flight, so no push is due to a change of its own.
    await waitFor(async () => (await db.query("select count(*)::int as n from delivery where lease_token is not null or (state in ('pending','failed') and next_attempt_at < now() + interval '10 minutes')")).rows[0]!.n === 0, {
      timeoutMs: 30_000,
      what: "a quiet delivery queue",
    });
    const counts = subscribers.map((sub) => sub.events.length);
    const pid = await waitFor(() => liveListenerPid(db, apiA), { what: "api A's listener backend" });
    await db.query("select pg_terminate_backend($1)", [pid]);

    await Promise.all(subscribers.map((sub, i) => sub.waitFor((events) => events.length > counts[i]!, 30_000)));
    for (const [i, sub] of subscribers.entries()) {
      const fresh = sub.events.at(-1)!.data!.queueDepthChanged;
      expect(new Date(fresh.sampledAt).getTime()).toBeGreaterThan(new Date(sub.events[counts[i]! - 1]!.data!.queueDepthChanged.sampledAt).getTime());
    }
    const newPid = await waitFor(() => liveListenerPid(db, apiA), { what: "the new listener backend" });
    expect(newPid).not.toBe(pid);
    await disposeAll(clients.splice(0));
  });
});

describe("alertRaised", () => {
  it("tells the endpoint's operator and admins when the worker raises an alert and when it resolves", async () => {
    const a = await insertOperatorWithKey("alerts A");
    const b = await insertOperatorWithKey("alerts B");
    const gone = await receiver(() => ({ status: 410 }));
    const onA = subscribe<AlertRaisedSubscription>(client(a.apiKey), AlertRaisedDocument);
    const onB = subscribe<AlertRaisedSubscription>(client(b.apiKey), AlertRaisedDocument);
    const admin = subscribe<AlertRaisedSubscription>(client(adminKey), AlertRaisedDocument);

    // An endpoint that answers 410 Gone is disabled by the worker, which then raises an alert about it.
    const endpoints: string[] = [];
    const raised = await produceUntilSeen(
      async () => {
        const endpointId = await createEndpoint(a, gone.url());
        endpoints.push(endpointId);
        await graphqlOk(apiB.urls!.graphql, SendTestWebhookDocument, { apiKey: a.apiKey, variables: { endpointId } });
      },
      () => {
        const alert = onA.events.map((e) => e.data?.alertRaised).find((candidate) => candidate && endpoints.includes(candidate.endpointId!));
        return alert && admin.events.some((e) => e.data?.alertRaised.id === alert.id) ? alert : undefined;
      },
      "an ENDPOINT_DISABLED alert on A's and the admin's subscriptions",
    );
    expect(raised).toMatchObject({ kind: "ENDPOINT_DISABLED", severity: "CRITICAL", operatorId: a.operatorId, active: true, resolvedAt: null });

    // The receiver is back and the endpoint re-enabled: the condition clears and the worker resolves the alert.
    gone.respond(() => ({ status: 200 }));
    await graphqlOk(apiB.urls!.graphql, EnableWebhookEndpointDocument, { apiKey: a.apiKey, variables: { id: raised.endpointId! } });
    const resolvedOf = (sub: typeof onA) => sub.events.map((e) => e.data?.alertRaised).find((alert) => alert?.id === raised.id && !alert.active);
    await onA.waitFor(() => resolvedOf(onA) !== undefined, 30_000);
    expect(resolvedOf(onA)).toMatchObject({ id: raised.id, active: false, resolvedAt: expect.any(String) });
    await admin.waitFor(() => resolvedOf(admin) !== undefined, 30_000);
    expect(onB.events.filter((e) => e.data?.alertRaised.operatorId !== b.operatorId)).toEqual([]);
    expect(onB.error).toBeUndefined();
  });
});
