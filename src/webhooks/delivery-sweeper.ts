import type pg from "pg";
import type { Logger } from "../common/logger";
import { addDeliveryJobsSql } from "./delivery-jobs";
import type { RecordedAttempt } from "./delivery-engine";
import type { WebhookMetrics } from "./metrics";

/**
 * Crash recovery. A worker SIGKILLed mid-attempt never records its attempt, and its
 * graphile-worker job stays locked for hours; the delivery's lease, though, expires
 * after WEBHOOK_LEASE_MS. Every worker process runs this sweep every
 * WEBHOOK_SWEEP_INTERVAL_MS: expired leases become a logged "lost" attempt (class
 * timeout) and the delivery is queued again at once, with a fresh job. So a crashed
 * attempt is retried within lease + sweep interval. `skip locked` keeps concurrent
 * sweepers on disjoint rows. A lost attempt counts toward the schedule, but it is always
 * retried (a lost last attempt gets one more try, after which the delivery can die).
 */
const SWEEP_SQL = `
  with expired as (
    select id, leased_at from delivery
    where lease_token is not null and lease_expires_at < now()
    order by lease_expires_at
    limit $2
    for update skip locked
  ),
  d as (
    update delivery d set
      attempt_count = d.attempt_count + 1, state = 'failed', next_attempt_at = now(),
      lease_token = null, lease_expires_at = null, leased_at = null, rate_slot_at = null,
      last_attempt_at = expired.leased_at, last_http_status = null, last_error_class = 'timeout'
    from expired
    where d.id = expired.id
    returning d.id, d.endpoint_id, d.event_id, d.series, d.replay, d.attempt_count, d.next_attempt_at, expired.leased_at
  ),
  attempt as (
    insert into delivery_attempt (id, created_at, delivery_id, endpoint_id, event_id, series, attempt_number, replay,
      started_at, duration_ms, succeeded, error_class, error_message, next_attempt_at, worker)
    select hub_uuid_v7(), now(), d.id, d.endpoint_id, d.event_id, d.series, d.attempt_count, d.replay,
      d.leased_at, least(extract(epoch from now() - d.leased_at) * 1000, 2147483647)::int, false, 'timeout',
      $3::text, d.next_attempt_at, $1::text
    from d
    on conflict (delivery_id, series, attempt_number) do nothing
    returning id, delivery_id, endpoint_id, event_id, series, attempt_number, replay, started_at, duration_ms, next_attempt_at
  ),
  jobs as (${addDeliveryJobsSql("d", "next_attempt_at")})
  -- jobs always has one row, so the add_jobs call is never skipped.
  select a.*, j.jobs from jobs j left join attempt a on true`;

interface SweptRow {
  id: string | null;
  delivery_id: string;
  endpoint_id: string;
  event_id: string;
  series: number;
  attempt_number: number;
  replay: boolean;
  started_at: Date;
  duration_ms: number;
  next_attempt_at: Date | null;
}

export const LOST_ATTEMPT_MESSAGE = "lost: the worker making this attempt stopped before recording it (its lease expired); retrying at once";
const SWEEP_BATCH = 500;

export async function sweepExpiredLeases(
  pool: pg.Pool,
  deps: { workerName: string; metrics: WebhookMetrics; log: Logger; onAttemptRecorded?: (attempt: RecordedAttempt) => void },
  limit = SWEEP_BATCH,
): Promise<number> {
  const { rows } = await pool.query<SweptRow>(SWEEP_SQL, [deps.workerName, limit, LOST_ATTEMPT_MESSAGE]);
  const lost = rows.filter((row) => row.id !== null);
  for (const row of lost) {
    deps.metrics.deliveries.inc({ outcome: "lost" });
    deps.log.warn({ deliveryId: row.delivery_id, attempt: row.attempt_number }, "recovered a delivery whose worker stopped mid-attempt");
    deps.onAttemptRecorded?.({
      attemptId: row.id!,
      deliveryId: row.delivery_id,
      endpointId: row.endpoint_id,
      eventId: row.event_id,
      series: row.series,
      attemptNumber: row.attempt_number,
      replay: row.replay,
      startedAt: row.started_at,
      durationMs: row.duration_ms,
      succeeded: false,
      httpStatus: null,
      errorClass: "timeout",
      errorMessage: LOST_ATTEMPT_MESSAGE,
      nextAttemptAt: row.next_attempt_at,
      deliveryState: "failed",
      worker: deps.workerName,
    });
  }
  return lost.length;
}

/**
 * The other crash window: a worker that dies after graphile-worker locked the job but
 * before it leased the delivery leaves no lease to expire, and the job stays locked for
 * graphile-worker's four hours. Jobs locked for longer than a lease whose delivery is
 * unleased and unfinished get a fresh job (adding a job under a locked job's key creates
 * a new one and retires the old). Scans graphile-worker's job table, which has no index
 * on locked_at, so it runs once per lease period rather than every sweep.
 */
const STRANDED_SQL = `
  with stale as (
    select substring(j.key from ${"delivery:".length + 1})::uuid as delivery_id
    from graphile_worker._private_jobs j
    where j.locked_at < now() - $1::int * interval '1 millisecond' and j.key like 'delivery:%'
    limit 500
  ),
  d as (
    select d.id, d.next_attempt_at from delivery d
    join stale s on s.delivery_id = d.id
    join webhook_endpoint e on e.id = d.endpoint_id
    where d.lease_token is null and d.state in ('pending', 'failed') and e.enabled
  )
  ${addDeliveryJobsSql("d", "next_attempt_at")}`;

export async function requeueStrandedJobs(pool: pg.Pool, leaseMs: number, log: Logger): Promise<number> {
  const { rows } = await pool.query<{ jobs: string }>(STRANDED_SQL, [leaseMs]);
  const requeued = Number(rows[0]?.jobs ?? 0);
  if (requeued > 0) log.warn({ requeued }, "re-queued deliveries whose worker stopped before starting them");
  return requeued;
}
