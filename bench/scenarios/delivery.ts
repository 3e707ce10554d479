import { randomBytes } from "node:crypto";
import pg from "pg";
import { Webhook } from "standardwebhooks";
import type { MikroORM } from "@mikro-orm/postgresql";
import { openOrm } from "../../src/db/orm";
import { BASELINE_DELIVERY_TASK, type BaselinePostPayload } from "../baseline/contract";
import { spawnNode } from "../child";
import { requireOperations, type BenchContext } from "../context";
import { createWebhookEndpoint } from "../hub-setup";
import { cpuPerOperation, processCpuMs, watchPeakRss, type PeakRss } from "../proc";
import { WebhookReceiver, type ReceivedRequest } from "../receiver";
import { perSecond, ratio, summarizeLatencies, type LatencySummary } from "../stats";
import { publishEvent } from "../../src/outbox/publish";
import { entitiesOf } from "../../src/feature";
import { FEATURES } from "../../src/features";
import { CONVERSION_RECORDED } from "../../src/conversions/conversion-events";

/**
 * Scenario 3: N events published through the hub's own outbox code (`publishEvent`, a few
 * transactions committed together) to one endpoint served by a loopback receiver that answers 200 at once;
 * against graphile-worker running a task that makes the same POST with no bookkeeping.
 * Latency is from the publishing transaction's commit to the request's arrival, on this
 * process's clock: first with the system idle (one event at a time), then for the backlog.
 */
export interface DeliverySide {
  events: number;
  /** Distinct events received per second, from the commit to the last arrival. */
  deliveriesPerSecond: number;
  drainSeconds: number;
  /** Requests received beyond one per event (at-least-once resends). */
  extraRequests: number;
  idleLatency: LatencySummary;
  backlogLatency: LatencySummary;
  /** CPU time (user + system) of the delivering process per delivery of the backlog, in ms. */
  cpuMsPerDelivery: number | null;
}

export interface DeliveryResult {
  hub: DeliverySide & {
    peakRss: PeakRss;
    /** Per second, from the commit until every delivery row was recorded `succeeded`. */
    recordedPerSecond: number;
    publishSeconds: number;
  };
  baseline: DeliverySide;
  deliveriesRatio: number | null;
}

const IDLE_PAUSE_MS = 25;
const EVENT_TYPE = CONVERSION_RECORDED.name;
const PUBLISH_CONNECTIONS = 4;

function eventData(sequence: number): Record<string, unknown> {
  return {
    conversionId: `0193a1b2-0000-7000-8000-${String(sequence).padStart(12, "0")}`,
    event: "deposit",
    eventId: `bench-${sequence}`,
    clickId: `clk_bench_${sequence % 997}`,
    customerId: `bench-player-${sequence % 5000}`,
    amount: "25.50",
    currency: "EUR",
    status: "approved",
    attributed: true,
    occurredAt: "2026-01-01T00:00:00.000Z",
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function drainDeadlineMs(events: number): number {
  // At 50 deliveries/s (twenty times under the target) plus a minute: bounded, never hit by a healthy hub.
  return 60_000 + (events / 50) * 1000;
}

function backlogFigures(
  receiver: WebhookReceiver,
  ids: string[],
  committedAt: number,
  idleLatency: LatencySummary,
  requestsBefore: number,
  cpuMsPerDelivery: number | null,
): DeliverySide {
  const latencies = ids.map((id) => receiver.firstArrival.get(id)! - committedAt);
  const lastArrival = Math.max(...latencies);
  return {
    events: ids.length,
    deliveriesPerSecond: perSecond(ids.length, lastArrival),
    drainSeconds: Number((lastArrival / 1000).toFixed(2)),
    extraRequests: receiver.requests - requestsBefore - ids.length,
    idleLatency,
    backlogLatency: summarizeLatencies(latencies),
    cpuMsPerDelivery,
  };
}

function verifySignatures(context: BenchContext, label: string, secret: string, kept: ReceivedRequest[]): void {
  const webhook = new Webhook(secret.replace(/^whsec_/, ""));
  let verified = 0;
  let problem = "";
  for (const request of kept) {
    try {
      webhook.verify(request.body, request.headers);
      verified += 1;
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
  }
  context.check(`${label}: deliveries verify with the standardwebhooks package`, verified > 0 && verified === kept.length,
    `${verified} of ${kept.length} sampled requests verified${problem ? ` (${problem})` : ""}`);
}

/**
 * Publishes `count` events through the hub's outbox code in PUBLISH_CONNECTIONS
 * transactions at once (publishing is slow next to delivering, and is not what is
 * measured); each waits for the others before committing, so the backlog appears at
 * once. Returns the time of the first commit, where the delivery window starts.
 */
async function publishBacklog(orm: MikroORM, count: number, data: () => Record<string, unknown>, ids: string[]): Promise<number> {
  let ready = 0;
  let releaseAll: () => void = () => {};
  const allPublished = new Promise<void>((resolve) => (releaseAll = resolve));
  let firstCommit = Number.POSITIVE_INFINITY;
  const share = (i: number) => Math.floor(count / PUBLISH_CONNECTIONS) + (i < count % PUBLISH_CONNECTIONS ? 1 : 0);
  await Promise.all(
    Array.from({ length: PUBLISH_CONNECTIONS }, async (_, i) => {
      try {
        await orm.em.fork().transactional(async (tx) => {
          for (let n = 0; n < share(i); n++) {
            ids.push((await publishEvent(tx, { type: CONVERSION_RECORDED, data: data() })).id);
            // Keeps the identity map small: each flush would otherwise diff every event so far.
            if (n % 50 === 49) tx.clear();
          }
          if (++ready === PUBLISH_CONNECTIONS) releaseAll();
          await allPublished;
        });
        firstCommit = Math.min(firstCommit, performance.now());
      } finally {
        // A failed transaction must not leave the others waiting forever.
        releaseAll();
      }
    }),
  );
  return firstCommit;
}

async function hubSide(context: BenchContext, receiver: WebhookReceiver): Promise<DeliveryResult["hub"]> {
  const { hub, sizes } = context;
  const endpoint = await createWebhookEndpoint(hub, { url: `${receiver.url}/hub`, eventTypes: [EVENT_TYPE], description: "bench receiver" });
  const orm = await openOrm(context.hubDatabaseUrl, PUBLISH_CONNECTIONS + 1, entitiesOf(FEATURES));
  context.defer(() => orm.close(true));
  const memory = watchPeakRss(hub.process.pid);
  let sequence = 0;

  context.progress(`delivery: hub, ${sizes.delivery.idleEvents} events one at a time`);
  const idle: number[] = [];
  for (let i = 0; i < sizes.delivery.idleEvents; i++) {
    const event = await publishEvent(orm.em.fork(), { type: CONVERSION_RECORDED, data: eventData(sequence++) });
    const committedAt = performance.now();
    idle.push((await receiver.arrival(event.id, 30_000)) - committedAt);
    await pause(IDLE_PAUSE_MS);
  }
  verifySignatures(context, "delivery (hub)", endpoint.secret, receiver.kept);

  context.progress(`delivery: hub, ${sizes.delivery.events} events in ${PUBLISH_CONNECTIONS} transactions committed together`);
  const requestsBefore = receiver.requests;
  const ids: string[] = [];
  const publishStarted = performance.now();
  // The hub's worker has nothing to do until the backlog commits: its CPU from here is the delivering.
  const cpuBefore = processCpuMs(hub.process.pid);
  const committedAt = await publishBacklog(orm, sizes.delivery.events, () => eventData(sequence++), ids);
  const publishSeconds = Number(((committedAt - publishStarted) / 1000).toFixed(2));
  await receiver.distinct(idle.length + ids.length, drainDeadlineMs(ids.length));
  const cpuAfter = processCpuMs(hub.process.pid);
  const figures = backlogFigures(receiver, ids, committedAt, summarizeLatencies(idle), requestsBefore, cpuPerOperation(cpuBefore, cpuAfter, ids.length));

  const expected = idle.length + ids.length;
  let recorded = 0;
  const recordDeadline = Date.now() + drainDeadlineMs(ids.length);
  while (Date.now() < recordDeadline) {
    const { rows } = await context.hubDb.query<{ n: string }>(
      "select count(*) as n from delivery where endpoint_id = $1 and state = 'succeeded'",
      [endpoint.id],
    );
    recorded = Number(rows[0]!.n);
    if (recorded >= expected) break;
    await pause(100);
  }
  const recordedAt = performance.now();
  const peakRss = memory.stop();
  context.check("delivery (hub): every event arrived", receiver.firstArrival.size >= expected, `${receiver.firstArrival.size} of ${expected}`);
  context.check("delivery (hub): every delivery recorded succeeded", recorded === expected, `${recorded} of ${expected}`);
  return { ...figures, peakRss, recordedPerSecond: perSecond(ids.length, recordedAt - committedAt), publishSeconds };
}

async function baselineSide(context: BenchContext, receiver: WebhookReceiver): Promise<DeliverySide> {
  const { sizes } = context;
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const databaseUrl = await context.server.createDatabase("delivery_baseline");
  const worker = spawnNode("baseline delivery worker", "bench/baseline/delivery-worker.js", {
    DATABASE_URL: databaseUrl,
    WORKER_CONCURRENCY: String(context.workerConcurrency),
    BENCH_WEBHOOK_SECRET: secret,
  });
  context.defer(async () => void (await worker.stop()));
  await worker.waitForJsonLine((entry) => entry.msg === "baseline worker running", 60_000, "running line");
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on("error", () => {});
  context.defer(() => pool.end());
  const url = `${receiver.url}/baseline`;
  const run = randomBytes(4).toString("hex");

  context.progress(`delivery: baseline, ${sizes.delivery.idleEvents} jobs one at a time`);
  const idle: number[] = [];
  for (let i = 0; i < sizes.delivery.idleEvents; i++) {
    const payload: BaselinePostPayload = { url, id: `msg_${run}_idle_${i}`, type: EVENT_TYPE, data: eventData(i) };
    await pool.query("select graphile_worker.add_job($1, $2::json)", [BASELINE_DELIVERY_TASK, JSON.stringify(payload)]);
    const committedAt = performance.now();
    idle.push((await receiver.arrival(payload.id, 30_000)) - committedAt);
    await pause(IDLE_PAUSE_MS);
  }
  verifySignatures(context, "delivery (baseline)", secret, receiver.kept);

  context.progress(`delivery: baseline, ${sizes.delivery.events} jobs in one statement`);
  const requestsBefore = receiver.requests;
  const ids = Array.from({ length: sizes.delivery.events }, (_, i) => `msg_${run}_${i}`);
  const cpuBefore = processCpuMs(worker.pid);
  // One add_jobs call, as the hub's outbox enqueues a batch: the window starts at its commit.
  await pool.query(
    `select graphile_worker.add_jobs(array(
       select row($1::text, json_build_object('url', $2::text, 'id', $3::text || g, 'type', $4::text, 'data', $5::jsonb),
                  null, null, null, null, null, null)::graphile_worker.job_spec
       from generate_series(0, $6::int - 1) g))`,
    [BASELINE_DELIVERY_TASK, url, `msg_${run}_`, EVENT_TYPE, JSON.stringify(eventData(0)), sizes.delivery.events],
  );
  const committedAt = performance.now();
  await receiver.distinct(idle.length + ids.length, drainDeadlineMs(ids.length));
  context.check("delivery (baseline): every job arrived", receiver.firstArrival.size >= idle.length + ids.length,
    `${receiver.firstArrival.size} of ${idle.length + ids.length}`);
  const figures = backlogFigures(receiver, ids, committedAt, summarizeLatencies(idle), requestsBefore,
    cpuPerOperation(cpuBefore, processCpuMs(worker.pid), ids.length));
  await worker.stop();
  return figures;
}

export async function runDelivery(context: BenchContext): Promise<DeliveryResult> {
  requireOperations(context, "webhook delivery (issue 4)", ["createWebhookEndpoint", "queueStats"]);
  const receiver = await WebhookReceiver.start();
  context.defer(() => receiver.close());
  const hub = await hubSide(context, receiver);
  receiver.reset();
  const baseline = await baselineSide(context, receiver);
  return { hub, baseline, deliveriesRatio: ratio(hub.deliveriesPerSecond, baseline.deliveriesPerSecond) };
}
