import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUE_DEPTH_KEY } from "../../src/alerts/alert-rules";
import { compactDeliveryCounts, queueStats, queueStatsQuery } from "../../src/webhooks/queue-stats";
import { AlertsDocument, QueueStatsDocument, ReplayFailedDeliveriesDocument } from "../generated/graphql";
import { graphqlOk } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { waitFor } from "../helpers/wait-for";
import { WebhookReceiver } from "../helpers/webhook-receiver";
import { conversionData, createEndpoint, eventType } from "../helpers/webhooks";
import { publishEvent } from "../../src/outbox/publish";

/** Default QUEUE_DEPTH_ALERT_THRESHOLD (100); retries an hour apart so failed deliveries stay queued. */
let hub: TestHub;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  hub = await startTestHub({ env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_RETRY_SCHEDULE: "1h", QUEUE_SAMPLE_INTERVAL_MS: "200" } });
});
afterAll(async () => {
  await hub?.stop();
  await Promise.all(receivers.map((r) => r.close()));
});

/** The same figures counted the slow way, straight from the delivery rows. */
async function bruteForce(): Promise<Record<string, { pending: number; dead: number; scheduled: number; inFlight: number }>> {
  const { rows } = await hub.db.query<{ endpoint_id: string; pending: number; dead: number; scheduled: number; in_flight: number }>(`
    select endpoint_id,
      count(*) filter (where state in ('pending', 'failed'))::int as pending,
      count(*) filter (where state = 'dead')::int as dead,
      count(*) filter (where state in ('pending', 'failed') and next_attempt_at > now())::int as scheduled,
      count(*) filter (where lease_token is not null and lease_expires_at > now())::int as in_flight
    from delivery group by endpoint_id`);
  return Object.fromEntries(rows.map((r) => [r.endpoint_id, { pending: r.pending, dead: r.dead, scheduled: r.scheduled, inFlight: r.in_flight }]));
}

describe("queue depth", () => {
  it("counts pending, scheduled, in-flight and dead deliveries, raises the alert at 101 and resolves it below 100", async () => {
    let healthy = false;
    const failing = await WebhookReceiver.start(() => ({ status: healthy ? 200 : 500 }));
    const observer = await WebhookReceiver.start();
    receivers.push(failing, observer);
    const { endpoint } = await createEndpoint(hub, { url: failing.url(), description: "flaky CRM" });
    const { endpoint: alerts } = await createEndpoint(hub, { url: observer.url(), eventTypes: ["alert.raised"] });
    const since = new Date(Date.now() - 60_000);

    await hub.hub.orm.em.fork().transactional(async (tx) => {
      for (let i = 0; i < 101; i++) await publishEvent(tx, { type: eventType("conversion.recorded"), data: conversionData() });
    });
    await waitFor(async () => (await hub.db.query("select count(*)::int as n from delivery where endpoint_id = $1 and state = 'failed'", [endpoint.id])).rows[0]!.n === 101, {
      timeoutMs: 60_000,
      what: "101 first attempts to fail",
    });

    const { queueStats: stats } = await graphqlOk(hub.graphqlUrl, QueueStatsDocument, { apiKey: hub.adminKey });
    const mine = stats.endpoints.find((e) => e.endpointId === endpoint.id)!;
    expect(mine).toMatchObject({ enabled: true, pending: 101, scheduledRetries: 101, dueNow: 0, inFlight: 0, dead: 0 });
    expect(mine.oldestPendingAgeSeconds).toBeGreaterThan(0);
    expect(stats.pending).toBeGreaterThanOrEqual(101);
    const truth = (await bruteForce())[endpoint.id]!;
    expect({ pending: mine.pending, dead: mine.dead, scheduled: mine.scheduledRetries, inFlight: mine.inFlight }).toEqual(truth);

    const raised = await waitFor(async () => {
      const { alerts: active } = await graphqlOk(hub.graphqlUrl, AlertsDocument, { variables: { active: true }, apiKey: hub.adminKey });
      return active.nodes.find((a) => a.key === QUEUE_DEPTH_KEY);
    }, { what: "the queue-depth alert" });
    expect(raised).toMatchObject({ kind: "QUEUE_DEPTH", severity: "WARNING", endpointId: endpoint.id });
    expect(raised.details).toMatchObject({ threshold: 100 });
    expect(Number(raised.details.pending)).toBeGreaterThanOrEqual(101);
    // Told to the observer, never to the endpoint that fills the queue.
    const told = await observer.waitForRequests(1);
    expect(JSON.parse(told[0]!.body)).toMatchObject({ type: "alert.raised", data: { kind: "QUEUE_DEPTH", alertId: raised.id } });
    const { rows } = await hub.db.query(
      "select count(*)::int as n from delivery d join event e on e.id = d.event_id where e.type = 'alert.raised' and d.endpoint_id = $1",
      [endpoint.id],
    );
    expect(rows[0]!.n).toBe(0);
    expect(alerts.id).toBeTruthy();

    // The receiver recovers; replaying drains the queue and the alert resolves.
    healthy = true;
    await graphqlOk(hub.graphqlUrl, ReplayFailedDeliveriesDocument, { variables: { endpointId: endpoint.id, since: since.toISOString() }, apiKey: hub.adminKey });
    await waitFor(async () => {
      const { alerts: resolved } = await graphqlOk(hub.graphqlUrl, AlertsDocument, { variables: { active: false }, apiKey: hub.adminKey });
      return resolved.nodes.some((a) => a.id === raised.id && a.resolvedAt);
    }, { timeoutMs: 60_000, what: "the queue-depth alert to resolve" });
    const after = await graphqlOk(hub.graphqlUrl, QueueStatsDocument, { apiKey: hub.adminKey });
    expect(after.queueStats.endpoints.find((e) => e.endpointId === endpoint.id)!.pending).toBeLessThan(100);

    const metrics = await (await fetch(`${hub.urls.http}/metrics`)).text();
    expect(metrics).toMatch(/^hub_webhook_queue_depth \d+/m);
    expect(metrics).toMatch(/^hub_webhook_deliveries_total\{outcome="retrying"\} \d+/m);
    expect(metrics).toMatch(/^hub_webhook_attempt_duration_seconds_count\{outcome="failure"\} \d+/m);
  });

  it("keeps its counters exact through bulk writes, moves between minutes, deletes and compaction", async () => {
    const target = await WebhookReceiver.start();
    receivers.push(target);
    // Disabled, so the engine leaves the seeded rows alone.
    const { endpoint } = await createEndpoint(hub, { url: target.url(), enabled: false });
    // 3000 rows straight into the table, as a bulk seed would: every state, retries spread over the next hour.
    await hub.db.query(
      `insert into event (id, created_at, type, payload)
       select hub_uuid_v7(), now(), 'conversion.recorded', '{}' from generate_series(1, 3000)`,
    );
    await hub.db.query(
      `insert into delivery (id, created_at, event_id, endpoint_id, state, queued_at, next_attempt_at, dead_at)
       select hub_uuid_v7(), now(), e.id, $1, s.state, now() - interval '5 minutes',
         case when s.state in ('pending', 'failed') then now() + (n % 90 - 30) * interval '1 minute' end,
         case when s.state = 'dead' then now() end
       from (select id, row_number() over () as n from event where payload = '{}'::jsonb) e
       cross join lateral (select (array['pending', 'failed', 'succeeded', 'dead'])[1 + e.n % 4] as state) s
       on conflict do nothing`,
      [endpoint.id],
    );
    const check = async () => {
      const stats = await queueStats(hub.hub.orm.em.fork(), { endpointId: endpoint.id });
      const mine = stats.endpoints[0]!;
      expect({ pending: mine.pending, dead: mine.dead, scheduled: mine.scheduledRetries, inFlight: mine.inFlight }).toEqual((await bruteForce())[endpoint.id]);
    };
    await check();
    await hub.db.query("update delivery set next_attempt_at = now() + interval '3 hours' where endpoint_id = $1 and state = 'failed' and random() < 0.5", [endpoint.id]);
    await hub.db.query("update delivery set state = 'succeeded', next_attempt_at = null where endpoint_id = $1 and state = 'pending' and random() < 0.5", [endpoint.id]);
    await hub.db.query("delete from delivery where endpoint_id = $1 and state = 'dead' and random() < 0.5", [endpoint.id]);
    await check();
    await compactDeliveryCounts(hub.hub.orm.em.fork());
    await check();
    const { rows } = await hub.db.query("select count(*)::int as n from delivery_count where endpoint_id = $1", [endpoint.id]);
    // Folded: at most one row per state and minute bucket (90 minutes of retries, two unfinished states, plus dead).
    expect(rows[0]!.n).toBeLessThanOrEqual(2 * 92 + 3);
  });

  it("reads the queue without scanning the delivery table", async () => {
    // Enough rows that a sequential scan would be the planner's choice if no index fitted.
    await hub.db.query(
      `with e as (insert into event (id, created_at, type, payload)
         select hub_uuid_v7(), now(), 'conversion.recorded', '{"bulk":true}' from generate_series(1, 30000) returning id)
       insert into delivery (id, created_at, event_id, endpoint_id, state, queued_at, succeeded_at)
       select hub_uuid_v7(), now(), e.id, (select id from webhook_endpoint order by created_at limit 1), 'succeeded', now(), now() from e`,
    );
    await hub.db.query("analyze delivery");
    const query = queueStatsQuery();
    const [row] = await hub.hub.orm.em.fork().execute<Array<{ "QUERY PLAN": unknown }>>(`explain (format json) ${query.sql}`, query.params as never[]);
    const scanned: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== "object") return;
      const plan = node as Record<string, unknown>;
      if (plan["Node Type"] === "Seq Scan") scanned.push(String(plan["Relation Name"]));
      Object.values(plan).forEach(walk);
    };
    walk(row!["QUERY PLAN"]);
    expect(scanned).not.toContain("delivery");
  });
});
