import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "graphql-ws";
import { generateApiKey } from "../../src/auth/api-key-secret";
import { newId } from "../../src/common/ids";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { graphqlOk, subscribe, wsClient } from "../helpers/graphql";
import { generateAdminKey, TEST_ENCRYPTION_KEY } from "../helpers/hub";
import { spawnHub, waitUntilListening, type HubProcess } from "../helpers/hub-process";
import { closeEventOf, disposeAll, liveListenerPid } from "../helpers/live";
import { waitFor } from "../helpers/wait-for";
import {
  JobQueueChangedDocument,
  LiveProbesDocument,
  SendLiveProbeDocument,
  type JobQueueChangedSubscription,
  type LiveProbeRoute,
  type LiveProbesSubscription,
} from "../generated/graphql";

/**
 * Real processes on one database, as deployed: one worker and two api processes. Every
 * event here is produced in a process other than the one the subscriber is connected to.
 */

type Echo = LiveProbesSubscription;
type QueueEvent = JobQueueChangedSubscription;
const PROBES = LiveProbesDocument;
const QUEUE = JobQueueChangedDocument;

let db: TestDatabase;
let adminKey: string;
let worker: HubProcess;
let apiA: HubProcess;
let apiB: HubProcess;
const clients: Client[] = [];

function client(url: string, apiKey: string, options: Parameters<typeof wsClient>[2] = {}): Client {
  const created = wsClient(url, apiKey, options);
  clients.push(created);
  return created;
}

async function insertOperatorWithKey(name: string): Promise<{ operatorId: string; apiKey: string }> {
  const operatorId = newId();
  await db.query("insert into operator (id, created_at, name, require_signature) values ($1, now(), $2, true)", [operatorId, name]);
  const key = generateApiKey();
  await db.query(
    "insert into api_key (id, created_at, name, role, operator_id, prefix, key_hash) values ($1, now(), 'test', 'OPERATOR', $2, $3, $4)",
    [newId(), operatorId, key.prefix, key.hash],
  );
  return { operatorId, apiKey: key.secret };
}

async function sendProbe(process: HubProcess, apiKey: string, route: LiveProbeRoute): Promise<string> {
  const data = await graphqlOk(process.urls!.graphql, SendLiveProbeDocument, { apiKey, variables: { route } });
  return data.sendLiveProbe.id;
}

type Subscription = ReturnType<typeof subscribe<Echo>>;

/**
 * Sends probes until one has reached every given subscriber, and returns its id. A
 * subscription is only live once its server has set it up, which the client cannot see;
 * the first probe that all of them receive proves it.
 */
async function probeUntilSeen(process: HubProcess, apiKey: string, route: LiveProbeRoute, subscribers: Subscription[]): Promise<string> {
  const sent: string[] = [];
  const seenByAll = () => sent.find((id) => subscribers.every((sub) => sub.events.some((event) => event.data?.liveProbes.probeId === id)));
  return waitFor(
    async () => {
      sent.push(await sendProbe(process, apiKey, route));
      await waitFor(seenByAll, { timeoutMs: 500, what: "the probe" }).catch(() => undefined);
      return seenByAll();
    },
    { timeoutMs: 30_000, intervalMs: 50, what: `a ${route} probe to reach every subscriber` },
  );
}

function echoOf(sub: Subscription, probeId: string): Echo["liveProbes"] {
  return sub.events.find((event) => event.data?.liveProbes.probeId === probeId)!.data!.liveProbes;
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
  };
  worker = spawnHub({ ...env, HUB_ROLE: "worker" });
  apiA = spawnHub({ ...env, HUB_ROLE: "api" });
  apiB = spawnHub({ ...env, HUB_ROLE: "api" });
  await Promise.all([worker, apiA, apiB].map((process) => waitUntilListening(process)));
});

afterAll(async () => {
  await disposeAll(clients);
  await Promise.all([worker, apiA, apiB].map((process) => process?.stop()));
  await db?.drop();
});

describe("live events across processes", () => {
  it("a worker's answer reaches subscribers on every api process", async () => {
    const onA = subscribe<Echo>(client(apiA.urls!.websocket, adminKey), PROBES);
    const onB = subscribe<Echo>(client(apiB.urls!.websocket, adminKey), PROBES);
    const probeId = await probeUntilSeen(apiB, adminKey, "WORKER", [onA, onB]);
    expect(echoOf(onA, probeId)).toMatchObject({
      route: "WORKER",
      sentBy: { role: "api", pid: apiB.child.pid },
      answeredBy: { role: "worker", pid: worker.child.pid },
      receivedBy: { role: "api", pid: apiA.child.pid },
    });
    expect(echoOf(onB, probeId).receivedBy.pid).toBe(apiB.child.pid);
  });

  it("an api process's event reaches subscribers on the other api process", async () => {
    const onA = subscribe<Echo>(client(apiA.urls!.websocket, adminKey), PROBES);
    const probeId = await probeUntilSeen(apiB, adminKey, "API", [onA]);
    expect(echoOf(onA, probeId)).toMatchObject({ route: "API", answeredBy: { role: "api", pid: apiB.child.pid }, receivedBy: { pid: apiA.child.pid } });
  });

  it("delivers a tenant's events to that tenant and admins only", async () => {
    const operatorA = await insertOperatorWithKey("operator A");
    const operatorB = await insertOperatorWithKey("operator B");
    const subA = subscribe<Echo>(client(apiA.urls!.websocket, operatorA.apiKey), PROBES);
    const subB = subscribe<Echo>(client(apiA.urls!.websocket, operatorB.apiKey), PROBES);
    const admin = subscribe<Echo>(client(apiB.urls!.websocket, adminKey), PROBES);

    const probeA = await probeUntilSeen(apiB, operatorA.apiKey, "WORKER", [subA, admin]);
    // Tenant keys do not see where the hub runs.
    expect(echoOf(subA, probeA).answeredBy).toEqual({ role: "worker", version: expect.any(String), pid: null, hostname: null });

    // B's probes travel the same ordered channel after A's: had any of A's reached B's
    // subscriber, it would have arrived before B's own.
    const probeB = await probeUntilSeen(apiA, operatorB.apiKey, "WORKER", [subB, admin]);
    const idsOf = (sub: Subscription) => sub.events.map((event) => event.data?.liveProbes.probeId);
    expect(idsOf(subB).every((id) => !idsOf(subA).includes(id))).toBe(true);
    expect(idsOf(subB)).toContain(probeB);
    expect(idsOf(subA)).not.toContain(probeB);
    expect(idsOf(admin)).toEqual(expect.arrayContaining([probeA, probeB]));
  });

  it("100 concurrent subscribers on one api process all receive a queue change the worker announces", async () => {
    const subscribers = Array.from({ length: 100 }, () => subscribe<QueueEvent>(client(apiA.urls!.websocket, adminKey), QUEUE));
    await Promise.all(subscribers.map((sub) => sub.waitFor((events) => events.length >= 1, 30_000)));
    const before = subscribers[0]!.events.at(-1)!.data!.jobQueueChanged.due;

    // A job no worker runs (unknown task) stays due: the worker's sampler sees the change.
    await db.query("select graphile_worker.add_job('test__never_runs', '{}'::json)");
    await Promise.all(
      subscribers.map((sub) => sub.waitFor((events) => events.some((event) => event.data?.jobQueueChanged.due === before + 1), 30_000)),
    );
    for (const sub of subscribers) expect(sub.error).toBeUndefined();
  });

  it("ends a subscription on an api process when its key is revoked by another", async () => {
    const operator = await insertOperatorWithKey("operator revoked");
    let onClosed: (event: unknown) => void = () => {};
    const closed = closeEventOf((listener) => (onClosed = listener));
    const sub = subscribe<Echo>(client(apiA.urls!.websocket, operator.apiKey, { on: { closed: (event) => onClosed(event) } }), PROBES);
    await probeUntilSeen(apiB, operator.apiKey, "API", [sub]);

    await db.query("update api_key set revoked_at = now() where operator_id = $1", [operator.operatorId]);
    expect(await closed).toEqual({ code: 4401, reason: "API_KEY_REVOKED: The API key was revoked" });
  });

  it("after its listener's backend is terminated, an api process reconnects and pushes fresh state", async () => {
    // An idle queue first, so nothing changes on its own (a due job's age grows every second).
    await db.query("delete from graphile_worker._private_jobs where task_id in (select id from graphile_worker._private_tasks where identifier = 'test__never_runs')");
    const subscribers = Array.from({ length: 5 }, () => subscribe<QueueEvent>(client(apiA.urls!.websocket, adminKey), QUEUE));
    const idle = (event: { data?: QueueEvent | null }) =>
      JSON.stringify(event.data?.jobQueueChanged) === JSON.stringify({ due: 0, scheduled: 0, running: 0, failed: 0, oldestDueAgeSeconds: null });
    await Promise.all(subscribers.map((sub) => sub.waitFor((events) => events.length > 0 && idle(events.at(-1)!), 30_000)));
    const counts = subscribers.map((sub) => sub.events.length);
    const due = 0;

    const pid = await waitFor(() => liveListenerPid(db, apiA), { what: "api A's listener backend" });
    await db.query("select pg_terminate_backend($1)", [pid]);

    // Nothing changed, yet each subscriber gets the state again: the reconnect may have
    // missed a change, so the server re-reads and pushes rather than trust its last value.
    await Promise.all(subscribers.map((sub, i) => sub.waitFor((events) => events.length > counts[i]!, 30_000)));
    for (const [i, sub] of subscribers.entries()) {
      expect(sub.events).toHaveLength(counts[i]! + 1);
      expect(idle(sub.events.at(-1)!)).toBe(true);
    }
    const newPid = await waitFor(() => liveListenerPid(db, apiA), { what: "the new listener backend" });
    expect(newPid).not.toBe(pid);

    // And it listens again: the next change arrives.
    await db.query("select graphile_worker.add_job('test__never_runs', '{}'::json)");
    await Promise.all(subscribers.map((sub) => sub.waitFor((events) => events.some((event) => event.data?.jobQueueChanged.due === due + 1), 30_000)));
    expect((await fetch(apiA.urls!.health.replace("/healthz", "/readyz"))).status).toBe(200);
  });

  it("closes subscribers with 1001 on graceful shutdown and exits 0", async () => {
    let onClosed: (event: unknown) => void = () => {};
    const closed = closeEventOf((listener) => (onClosed = listener));
    const sub = subscribe<QueueEvent>(client(apiB.urls!.websocket, adminKey, { on: { closed: (event) => onClosed(event) } }), QUEUE);
    await sub.waitFor((events) => events.length >= 1, 30_000);
    const exit = await apiB.stop("SIGTERM");
    expect(exit.code).toBe(0);
    expect((await closed).code).toBe(1001);
  });
});
