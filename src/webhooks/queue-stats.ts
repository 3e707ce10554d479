import type { EntityManager } from "@mikro-orm/postgresql";
import { toDate } from "../db/sql";

export interface EndpointQueueStats {
  endpointId: string;
  enabled: boolean;
  /** Not yet succeeded or dead. */
  pending: number;
  /** Pending, not in flight, and due (deliveries of a disabled endpoint wait here). */
  dueNow: number;
  /** Pending with their next attempt in the future: a scheduled retry or a rate-limit slot. */
  scheduledRetries: number;
  inFlight: number;
  dead: number;
  oldestPendingAgeSeconds: number | null;
}

export interface QueueStats extends Omit<EndpointQueueStats, "endpointId" | "enabled"> {
  sampledAt: Date;
  endpoints: EndpointQueueStats[];
}

/** Whose endpoints to count: everything (admin), or one operator's or affiliate's. */
export interface QueueStatsScope {
  operatorId?: string | null;
  affiliateId?: string | null;
  endpointId?: string | null;
}

/**
 * Cost is O(endpoints + counter rows + deliveries due within the current minute +
 * deliveries in flight), never O(deliveries): totals come from the trigger-kept
 * counters, the due/scheduled split from their next-attempt minute buckets plus an
 * index range scan over the current minute, and the oldest pending age from one probe
 * per endpoint into a partial index. One statement, so one consistent snapshot.
 */
const QUEUE_STATS_SQL = (endpointFilter: string) => `
  with clock as (
    select now() as now, date_bin('1 minute', now(), timestamptz '1970-01-01 00:00:00+00') as minute
  ),
  endpoints as (select e.id, e.enabled from webhook_endpoint e where ${endpointFilter}),
  counts as (
    select c.endpoint_id,
      sum(c.delta) filter (where c.state in ('pending', 'failed')) as pending,
      sum(c.delta) filter (where c.state = 'dead') as dead,
      sum(c.delta) filter (where c.state in ('pending', 'failed') and c.due_minute > (select minute from clock)) as later
    from delivery_count c
    where c.endpoint_id in (select id from endpoints)
    group by c.endpoint_id
  ),
  this_minute as (
    select d.endpoint_id, count(*) as scheduled
    from delivery d
    where d.state in ('pending', 'failed')
      and d.next_attempt_at > (select now from clock)
      and d.next_attempt_at < (select minute from clock) + interval '1 minute'
    group by d.endpoint_id
  ),
  in_flight as (
    select d.endpoint_id, count(*) as n
    from delivery d
    where d.lease_token is not null and d.lease_expires_at > (select now from clock)
    group by d.endpoint_id
  )
  select e.id as endpoint_id, e.enabled,
    coalesce(c.pending, 0)::bigint as pending,
    coalesce(c.dead, 0)::bigint as dead,
    (coalesce(c.later, 0) + coalesce(m.scheduled, 0))::bigint as scheduled,
    coalesce(f.n, 0)::bigint as in_flight,
    extract(epoch from (select now from clock) - o.queued_at)::float8 as oldest_age,
    (select now from clock) as sampled_at
  from endpoints e
  left join counts c on c.endpoint_id = e.id
  left join this_minute m on m.endpoint_id = e.id
  left join in_flight f on f.endpoint_id = e.id
  left join lateral (
    select d.queued_at from delivery d
    where d.endpoint_id = e.id and d.state in ('pending', 'failed')
    order by d.queued_at limit 1
  ) o on true
  order by e.id`;

interface StatsRow {
  endpoint_id: string;
  enabled: boolean;
  pending: string;
  dead: string;
  scheduled: string;
  in_flight: string;
  oldest_age: number | null;
  sampled_at: string | Date;
}

/** The one statement queueStats runs, with its bindings (exported so tests can EXPLAIN it). */
export function queueStatsQuery(scope: QueueStatsScope = {}): { sql: string; params: unknown[] } {
  const filters: string[] = ["true"];
  const params: unknown[] = [];
  if (scope.operatorId) {
    filters.push("e.owner_operator_id = ?::uuid");
    params.push(scope.operatorId);
  }
  if (scope.affiliateId) {
    filters.push("e.owner_affiliate_id = ?::uuid");
    params.push(scope.affiliateId);
  }
  if (scope.endpointId) {
    filters.push("e.id = ?::uuid");
    params.push(scope.endpointId);
  }
  return { sql: QUEUE_STATS_SQL(filters.join(" and ")), params };
}

export async function queueStats(em: EntityManager, scope: QueueStatsScope = {}): Promise<QueueStats> {
  const query = queueStatsQuery(scope);
  const rows = await em.execute<StatsRow[]>(query.sql, query.params);
  const endpoints = rows.map((row): EndpointQueueStats => {
    const pending = Math.max(0, Number(row.pending));
    const inFlight = Number(row.in_flight);
    const scheduledRetries = Math.max(0, Number(row.scheduled));
    return {
      endpointId: row.endpoint_id,
      enabled: row.enabled,
      pending,
      dueNow: Math.max(0, pending - scheduledRetries - inFlight),
      scheduledRetries,
      inFlight,
      dead: Math.max(0, Number(row.dead)),
      oldestPendingAgeSeconds: row.oldest_age === null ? null : Math.max(0, Number(row.oldest_age)),
    };
  });
  const sum = (pick: (stats: EndpointQueueStats) => number) => endpoints.reduce((total, stats) => total + pick(stats), 0);
  const ages = endpoints.map((stats) => stats.oldestPendingAgeSeconds).filter((age): age is number => age !== null);
  return {
    sampledAt: rows[0] ? toDate(rows[0].sampled_at) : new Date(),
    pending: sum((s) => s.pending),
    dueNow: sum((s) => s.dueNow),
    scheduledRetries: sum((s) => s.scheduledRetries),
    inFlight: sum((s) => s.inFlight),
    dead: sum((s) => s.dead),
    oldestPendingAgeSeconds: ages.length > 0 ? Math.max(...ages) : null,
    endpoints,
  };
}

/**
 * Folds the counter deltas: one row per (endpoint, state, minute), minutes already past
 * merged into -infinity, zero sums dropped. Rows inserted while this runs are not in its
 * snapshot and stay for the next round, so nothing is counted twice. Concurrent runs are
 * correct too (each deletes what it sums); callers serialise them to save the work.
 */
export async function compactDeliveryCounts(em: EntityManager): Promise<void> {
  await em.execute(`
    with clock as (select date_bin('1 minute', now(), timestamptz '1970-01-01 00:00:00+00') as minute),
    keys as (
      select endpoint_id, state, due_minute from delivery_count
      group by 1, 2, 3
      having count(*) > 1 or (due_minute < (select minute from clock) and due_minute <> '-infinity')
    ),
    removed as (
      delete from delivery_count c using keys k
      where c.endpoint_id = k.endpoint_id and c.state = k.state and c.due_minute = k.due_minute
      returning c.endpoint_id, c.state,
        case when c.due_minute < (select minute from clock) then '-infinity'::timestamptz else c.due_minute end as due_minute,
        c.delta
    )
    insert into delivery_count (endpoint_id, state, due_minute, delta)
    select endpoint_id, state, due_minute, sum(delta) from removed group by 1, 2, 3 having sum(delta) <> 0`);
}
