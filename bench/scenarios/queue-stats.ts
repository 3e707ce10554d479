import { openOrm } from "../../src/db/orm";
import { queueStats } from "../../src/webhooks/queue-stats";
import { requireOperations, type BenchContext } from "../context";
import { graphqlClient } from "../graphql-client";
import { createWebhookEndpoint } from "../hub-setup";
import { summarizeLatencies, type LatencySummary } from "../stats";
import { entitiesOf } from "../../src/feature";
import { FEATURES } from "../../src/features";

/**
 * Scenario 4: how the cost of `queueStats` grows with the delivery table. Rows are
 * seeded directly in SQL (a million through the API would take longer than the whole
 * bench may), set-based, so the table's own triggers keep the hub's counters as they
 * would for any writer. The seeded endpoints are disabled: nothing tries to send them.
 * The mix: 90% succeeded, 6% pending and due, 2% failed with a retry scheduled hours
 * ahead, 2% dead.
 */
export interface QueueStatsStep {
  rows: number;
  seedSeconds: number;
  /** The `queueStats` GraphQL request, end to end over HTTP (key check, rate limit and request log included), sequential calls. */
  graphql: LatencySummary;
  /** The hub's own queueStats() service on one connection: the database's share of it. */
  service: LatencySummary;
}

export interface QueueStatsResult {
  endpoints: number;
  steps: QueueStatsStep[];
}

interface Expected {
  pending: number;
  dueNow: number;
  scheduledRetries: number;
  dead: number;
}

const SEED_CHUNK_ROWS = 100_000;
const STATS_QUERY = `{ queueStats { pending dueNow scheduledRetries inFlight dead oldestPendingAgeSeconds
  endpoints { endpointId pending dueNow scheduledRetries inFlight dead oldestPendingAgeSeconds } } }`;

interface StatsAnswer {
  queueStats: {
    endpoints: Array<{ endpointId: string; pending: number; dueNow: number; scheduledRetries: number; inFlight: number; dead: number }>;
  };
}

const SEED_SQL = `
  with ev as (
    insert into event (id, created_at, type, payload, operator_id, affiliate_id)
    select hub_uuid_v7(), now() - random() * interval '1 day', 'conversion.recorded', '{"seeded": true}'::jsonb, null, null
    from generate_series(1, $1::int)
    returning id, created_at
  ),
  planned as (
    select ev.id as event_id, ev.created_at, endpoint.id as endpoint_id, random() as r
    from ev cross join unnest($2::uuid[]) as endpoint(id)
  ),
  inserted as (
    insert into delivery (id, created_at, event_id, endpoint_id, state, attempt_count, queued_at, next_attempt_at,
      last_attempt_at, succeeded_at, dead_at)
    select hub_uuid_v7(), created_at, event_id, endpoint_id,
      case when r < 0.90 then 'succeeded' when r < 0.96 then 'pending' when r < 0.98 then 'failed' else 'dead' end,
      case when r < 0.90 then 1 when r < 0.96 then 0 when r < 0.98 then 3 else 12 end,
      created_at,
      case when r < 0.90 then null when r < 0.96 then created_at when r < 0.98 then now() + interval '2 hours' + r * interval '1 hour' else null end,
      case when r < 0.90 or r >= 0.96 then created_at + interval '1 second' else null end,
      case when r < 0.90 then created_at + interval '1 second' else null end,
      case when r >= 0.98 then created_at + interval '1 day' else null end
    from planned
    returning state
  )
  select state, count(*)::int as n from inserted group by state`;

async function seed(context: BenchContext, endpointIds: string[], rows: number, expected: Expected): Promise<void> {
  for (let done = 0; done < rows; ) {
    const events = Math.max(1, Math.floor(Math.min(SEED_CHUNK_ROWS, rows - done) / endpointIds.length));
    const { rows: counts } = await context.hubDb.query<{ state: string; n: number }>(SEED_SQL, [events, endpointIds]);
    for (const { state, n } of counts) {
      if (state === "pending") {
        expected.pending += n;
        expected.dueNow += n;
      } else if (state === "failed") {
        expected.pending += n;
        expected.scheduledRetries += n;
      } else if (state === "dead") {
        expected.dead += n;
      }
    }
    done += events * endpointIds.length;
  }
}

function seededTotals(answer: StatsAnswer, endpointIds: Set<string>): Expected & { inFlight: number } {
  const mine = answer.queueStats.endpoints.filter((endpoint) => endpointIds.has(endpoint.endpointId));
  const sum = (pick: (e: (typeof mine)[number]) => number) => mine.reduce((total, e) => total + pick(e), 0);
  return {
    pending: sum((e) => e.pending),
    dueNow: sum((e) => e.dueNow),
    scheduledRetries: sum((e) => e.scheduledRetries),
    dead: sum((e) => e.dead),
    inFlight: sum((e) => e.inFlight),
  };
}

export async function runQueueStats(context: BenchContext): Promise<QueueStatsResult> {
  requireOperations(context, "webhook delivery (issue 4)", ["createWebhookEndpoint", "queueStats"]);
  const { hub, sizes } = context;
  const admin = graphqlClient(hub.graphqlUrl, hub.adminKey);
  const endpointIds: string[] = [];
  for (let i = 0; i < sizes.queueStats.endpoints; i++) {
    // Port 9 (discard) on loopback: never contacted, the endpoints are disabled.
    endpointIds.push((await createWebhookEndpoint(hub, { url: `http://127.0.0.1:9/seeded-${i}`, enabled: false, description: "bench seed" })).id);
  }
  const mine = new Set(endpointIds);
  const orm = await openOrm(context.hubDatabaseUrl, 1, entitiesOf(FEATURES));
  context.defer(() => orm.close(true));
  const expected: Expected = { pending: 0, dueNow: 0, scheduledRetries: 0, dead: 0 };
  const steps: QueueStatsStep[] = [];
  let seeded = 0;

  for (const target of sizes.queueStats.rowSteps) {
    context.progress(`queue stats: seeding to ${target.toLocaleString("en-US")} delivery rows`);
    const seedStarted = performance.now();
    await seed(context, endpointIds, target - seeded, expected);
    seeded = target;
    // What autovacuum does to a table in steady state: fresh statistics and visibility map.
    await context.hubDb.query("vacuum (analyze) delivery");
    await context.hubDb.query("vacuum (analyze) delivery_count");
    const seedSeconds = Number(((performance.now() - seedStarted) / 1000).toFixed(1));

    const answer = await admin.request<StatsAnswer>(STATS_QUERY);
    const totals = seededTotals(answer, mine);
    context.check(`queue stats at ${target} rows: counts are exact`,
      totals.pending === expected.pending && totals.dueNow === expected.dueNow && totals.scheduledRetries === expected.scheduledRetries &&
        totals.dead === expected.dead && totals.inFlight === 0,
      `got ${JSON.stringify(totals)}, seeded ${JSON.stringify(expected)}`);

    for (let i = 0; i < 3; i++) await admin.request(STATS_QUERY);
    const latencies: number[] = [];
    for (let i = 0; i < sizes.queueStats.calls; i++) {
      const started = performance.now();
      await admin.request(STATS_QUERY);
      latencies.push(performance.now() - started);
    }
    const serviceLatencies: number[] = [];
    for (let i = 0; i < sizes.queueStats.calls + 3; i++) {
      const started = performance.now();
      await queueStats(orm.em.fork());
      if (i >= 3) serviceLatencies.push(performance.now() - started);
    }
    steps.push({ rows: target, seedSeconds, graphql: summarizeLatencies(latencies), service: summarizeLatencies(serviceLatencies) });
  }
  return { endpoints: endpointIds.length, steps };
}
