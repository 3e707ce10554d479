import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LOST_ATTEMPT_MESSAGE } from "../../src/webhooks/delivery-sweeper";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { spawnHub, waitUntilListening, type HubProcess } from "../helpers/hub-process";
import { startTestHub, TEST_ENCRYPTION_KEY, type TestHub } from "../helpers/hub";
import { insertOperator } from "../helpers/tenants";
import { waitFor } from "../helpers/wait-for";
import { WebhookReceiver } from "../helpers/webhook-receiver";
import { attemptsOf, conversionData, createEndpoint, eventType, publish, waitForDeliveryState } from "../helpers/webhooks";
import { publishEvent } from "../../src/outbox/publish";

/**
 * Real worker processes (`HUB_ROLE=worker`, the built hub) against one database; this
 * process runs only the API (no worker), publishes, and watches the rows.
 */
const LEASE_MS = 4_000;
const WORKER_ENV = {
  HUB_ROLE: "worker",
  MIGRATE_ON_START: "false",
  HUB_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
  WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
  WEBHOOK_RETRY_SCHEDULE: "1s,1s,1s",
  WEBHOOK_TIMEOUT_MS: "2000",
  WEBHOOK_LEASE_MS: String(LEASE_MS),
  WEBHOOK_SWEEP_INTERVAL_MS: "500",
  WORKER_POLL_INTERVAL_MS: "200",
  LOG_LEVEL: "info",
};

let db: TestDatabase;
let api: TestHub;
const workers: HubProcess[] = [];
const receivers: WebhookReceiver[] = [];

async function startWorker(env: Record<string, string> = {}): Promise<HubProcess> {
  const worker = spawnHub({ ...WORKER_ENV, DATABASE_URL: db.url, ...env });
  workers.push(worker);
  await waitUntilListening(worker);
  return worker;
}

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startTestHub({ db, env: { HUB_ROLE: "api", WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" } });
});
/** Each test's endpoint and events belong to its own operator, so tests never see each other's deliveries. */
async function ownEndpoint(target: WebhookReceiver, input: { maxInFlight?: number } = {}) {
  const operator = await insertOperator(api.hub.orm.em.fork());
  const { endpoint } = await createEndpoint(api, { url: target.url(), ownerOperatorId: operator.id, ...input });
  const event = (fields: Record<string, unknown> = {}) => ({ type: eventType("conversion.recorded"), data: conversionData({ operatorId: operator.id, ...fields }), operatorId: operator.id });
  return { endpoint, event };
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop("SIGKILL")));
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});
afterAll(async () => {
  await api?.stop();
  await db?.drop();
});

describe("worker processes", () => {
  it("retries the delivery of a SIGKILLed worker once its lease expires, without two sends at once", async () => {
    const victim = await startWorker();
    const target = await WebhookReceiver.start((request) => {
      if (request.index === 0) {
        // The worker dies mid-attempt, holding the request open.
        victim.child.kill("SIGKILL");
        return { hang: true };
      }
      return { status: 200 };
    });
    receivers.push(target);
    const { endpoint, event: eventFor } = await ownEndpoint(target);
    const event = await publish(api.hub.orm.em, eventFor());
    await target.waitForRequests(1, { what: "the first attempt to reach the receiver" });
    expect((await victim.exited).signal).toBe("SIGKILL");

    await startWorker();
    const delivery = await waitForDeliveryState(api, event.id, endpoint.id, ["succeeded"], 60_000);
    const attempts = await attemptsOf(api, delivery.id);
    expect(attempts.map((a) => [a.attempt_number, a.succeeded, a.error_class])).toEqual([
      [1, false, "timeout"],
      [2, true, null],
    ]);
    expect(attempts[0]!.error_message).toBe(LOST_ATTEMPT_MESSAGE);
    // The retry waited for the lease: the crashed attempt could not still be sending.
    expect(attempts[1]!.started_at.getTime() - attempts[0]!.started_at.getTime()).toBeGreaterThanOrEqual(LEASE_MS - 50);
    expect(target.maxConcurrentPerMessage).toBe(1);
    expect(target.requests.map((r) => r.messageId)).toEqual([event.id, event.id]);
  });

  it("re-queues a delivery whose worker died after taking its job but before leasing it", async () => {
    const target = await WebhookReceiver.start();
    receivers.push(target);
    const { endpoint, event: eventFor } = await ownEndpoint(target);
    // The crash window, reproduced exactly: the job is locked by a worker that is gone, the delivery has no lease.
    const event = await api.hub.orm.em.fork().transactional(async (tx) => {
      const published = await publishEvent(tx, eventFor());
      await tx.execute(
        `update graphile_worker._private_jobs set locked_at = now() - interval '1 hour', locked_by = 'a-worker-that-died'
         where key = (select 'delivery:' || id from delivery where event_id = ?)`,
        [published.id],
      );
      return published;
    });
    await startWorker();
    const delivery = await waitForDeliveryState(api, event.id, endpoint.id, ["succeeded"], 60_000);
    expect((await attemptsOf(api, delivery.id)).map((a) => [a.attempt_number, a.succeeded])).toEqual([[1, true]]);
    expect(target.requests.map((r) => r.messageId)).toEqual([event.id]);
  });

  it("lets a gracefully stopping worker finish its attempt, or release it when it takes too long", async () => {
    let stopping: HubProcess | undefined;
    let slowReply = true;
    const target = await WebhookReceiver.start(async (request) => {
      if (request.index === 0) {
        void stopping!.stop("SIGTERM");
        return { status: 200, delayMs: 1_000 };
      }
      if (slowReply) {
        void stopping!.stop("SIGTERM");
        // Longer than graphile-worker waits before aborting running jobs (5 s).
        return { status: 200, delayMs: 30_000 };
      }
      return { status: 200 };
    });
    receivers.push(target);
    const { endpoint, event: eventFor } = await ownEndpoint(target);

    // 1. Finishes: SIGTERM arrives mid-attempt, the attempt completes and is recorded, exit 0.
    stopping = await startWorker();
    const finished = await publish(api.hub.orm.em, eventFor());
    expect((await stopping.exited).code).toBe(0);
    const done = await waitForDeliveryState(api, finished.id, endpoint.id, ["succeeded"]);
    expect((await attemptsOf(api, done.id)).map((a) => a.succeeded)).toEqual([true]);

    // 2. Releases: the attempt outlasts the shutdown's patience; it is handed back unrecorded, exit 0.
    stopping = await startWorker({ WEBHOOK_TIMEOUT_MS: "60000", WEBHOOK_LEASE_MS: "90000" });
    const released = await publish(api.hub.orm.em, eventFor());
    expect((await stopping.exited).code).toBe(0);
    const { rows } = await api.db.query("select state, attempt_count, lease_token from delivery where event_id = $1", [released.id]);
    expect(rows[0]).toEqual({ state: "pending", attempt_count: 0, lease_token: null });
    slowReply = false;
    await startWorker();
    const delivered = await waitForDeliveryState(api, released.id, endpoint.id, ["succeeded"], 60_000);
    expect((await attemptsOf(api, delivered.id)).map((a) => [a.attempt_number, a.succeeded])).toEqual([[1, true]]);
  });

  it("delivers 1000 events with two worker processes: every event, never the same attempt twice at once", async () => {
    // About one event in ten fails its first try, so retries interleave with first attempts on both workers.
    const retried = new Set<string>();
    const failsFirst = (id: string) => Number.parseInt(id.slice(-2), 16) % 10 === 0 && !retried.has(id);
    const target = await WebhookReceiver.start((request) => {
      if (request.messageId && failsFirst(request.messageId)) {
        retried.add(request.messageId);
        return { status: 500 };
      }
      return { status: 200, delayMs: request.index % 7 };
    });
    receivers.push(target);
    const { endpoint, event: eventFor } = await ownEndpoint(target);
    await Promise.all([startWorker({ WORKER_CONCURRENCY: "10" }), startWorker({ WORKER_CONCURRENCY: "10" })]);

    const eventIds: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      await api.hub.orm.em.fork().transactional(async (tx) => {
        for (let i = 0; i < 100; i++) eventIds.push((await publishEvent(tx, eventFor())).id);
      });
    }
    await waitFor(
      async () => (await api.db.query("select count(*)::int as n from delivery where endpoint_id = $1 and state = 'succeeded'", [endpoint.id])).rows[0]!.n === 1_000,
      { timeoutMs: 180_000, intervalMs: 250, what: "1000 deliveries to succeed" },
    );

    const received = new Set(target.requests.map((r) => r.messageId));
    expect(eventIds.filter((id) => !received.has(id))).toEqual([]);
    expect(target.maxConcurrentPerMessage).toBe(1);
    const { rows } = await api.db.query<{ attempts: number; successes: number; deliveries: number; workers: number; max_successes: number }>(
      `select count(*)::int as attempts, count(*) filter (where succeeded)::int as successes,
         count(distinct delivery_id)::int as deliveries, count(distinct worker)::int as workers,
         (select max(n)::int from (select count(*) as n from delivery_attempt where endpoint_id = $1 and succeeded group by delivery_id) s) as max_successes
       from delivery_attempt where endpoint_id = $1`,
      [endpoint.id],
    );
    expect(rows[0]).toMatchObject({ successes: 1_000, deliveries: 1_000, workers: 2, max_successes: 1 });
    expect(rows[0]!.attempts).toBe(1_000 + retried.size);
    // Every attempt reached the receiver exactly once.
    expect(target.requests).toHaveLength(1_000 + retried.size);
  });

  it("holds an endpoint's in-flight limit across worker processes; waiting is not an attempt", async () => {
    const target = await WebhookReceiver.start(() => ({ status: 200, delayMs: 300 }));
    receivers.push(target);
    const { endpoint, event: eventFor } = await ownEndpoint(target, { maxInFlight: 2 });
    await Promise.all([startWorker({ WORKER_CONCURRENCY: "4" }), startWorker({ WORKER_CONCURRENCY: "4" })]);
    const events = 16;
    await api.hub.orm.em.fork().transactional(async (tx) => {
      for (let i = 0; i < events; i++) await publishEvent(tx, eventFor());
    });
    await waitFor(
      async () => (await api.db.query("select count(*)::int as n from delivery where endpoint_id = $1 and state = 'succeeded'", [endpoint.id])).rows[0]!.n === events,
      { timeoutMs: 60_000, what: "every delivery to succeed" },
    );
    // Eight worker slots between two processes, and never more than two requests at once.
    expect(target.maxConcurrent).toBe(2);
    expect(target.requests).toHaveLength(events);
    const { rows } = await api.db.query<{ attempts: number; first_attempts: number; workers: number }>(
      `select count(*)::int as attempts, count(*) filter (where attempt_number = 1)::int as first_attempts, count(distinct worker)::int as workers
       from delivery_attempt where endpoint_id = $1`,
      [endpoint.id],
    );
    expect(rows[0]).toEqual({ attempts: events, first_attempts: events, workers: 2 });
  });

  it("keeps another tenant's p99 under 2 s across worker processes while one endpoint hangs (2 s timeout)", async () => {
    const hanging = await WebhookReceiver.start(() => ({ hang: true }));
    const healthy = await WebhookReceiver.start();
    receivers.push(hanging, healthy);
    const slow = await ownEndpoint(hanging);
    const other = await ownEndpoint(healthy);
    // Six slots in all, so an unlimited hanging endpoint would hold every one of them.
    await Promise.all([startWorker({ WORKER_CONCURRENCY: "3" }), startWorker({ WORKER_CONCURRENCY: "3" })]);
    await api.hub.orm.em.fork().transactional(async (tx) => {
      for (let i = 0; i < 60; i++) await publishEvent(tx, slow.event());
    });
    await hanging.waitForRequests(4, { what: "the hanging endpoint's first attempts" });
    const published = 50;
    for (let i = 0; i < published; i++) {
      await publish(api.hub.orm.em, other.event());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await waitFor(
      async () => (await api.db.query("select count(*)::int as n from delivery where endpoint_id = $1 and state = 'succeeded'", [other.endpoint.id])).rows[0]!.n === published,
      { timeoutMs: 60_000, what: "the other tenant's deliveries to succeed" },
    );
    const { rows } = await api.db.query<{ ms: number }>(
      "select extract(epoch from succeeded_at - created_at) * 1000 as ms from delivery where endpoint_id = $1 order by 1",
      [other.endpoint.id],
    );
    const latencies = rows.map((row) => Number(row.ms));
    expect(latencies[Math.ceil(latencies.length * 0.99) - 1]).toBeLessThan(2_000);
    // The hub default of 4 at once, across both processes.
    expect(hanging.maxConcurrent).toBe(4);
  });
});
