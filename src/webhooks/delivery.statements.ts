import { addDeliveryJobsSql } from "./delivery-jobs";
import type { WebhookFormat } from "./webhook-endpoint.entity";

/**
 * The delivery engine's SQL: one named statement per step, run on the worker's plain pg
 * pool. Named statements are prepared once per connection, so Postgres parses and plans
 * each once instead of once per attempt. Values are always parameters; the only text
 * spliced in is fixed: delivery-jobs.ts's add_jobs fragment and WAKE_NEXT_WAITING.
 */

export interface Statement {
  readonly name: string;
  readonly text: string;
}

/**
 * Leases a delivery if it is due, unfinished, unleased, its endpoint enabled and one of
 * the endpoint's in-flight slots free. The endpoint's limit (`lim`, also in PARK_DELIVERY
 * and WAKE_WAITING_DELIVERIES): its maxInFlight or the hub default, but one at a time
 * while it is failing, against its live leases. The slot number goes on the lease; the
 * unique index delivery_endpoint_lease_slot_unique makes the limit exact across worker
 * processes. Concurrent claims steer clear of each other's slot with a transaction-scoped
 * advisory lock (two-int key: endpoint hash, slot); one that still collides (its snapshot
 * predates the other's commit) gets 23505 and looks again.
 * $1 delivery id, $2 lease token, $3 lease ms, $4 default max in flight, $5 max in flight
 * while failing. No row: not claimable now (PARK_DELIVERY tells why).
 */
export const CLAIM_DELIVERY: Statement = {
  name: "delivery_claim",
  text: `
  update delivery d
  set lease_token = $2, lease_expires_at = now() + $3::int * interval '1 millisecond', leased_at = now(),
    lease_slot = slot.number, waiting_for_slot_since = null
  from webhook_endpoint e
    cross join lateral (
      select case when e.failing_since is not null then $5::int else coalesce(e.max_in_flight, $4::int) end as max_in_flight,
      (select count(*) from delivery l where l.endpoint_id = e.id and l.lease_token is not null) as in_flight
    ) lim
    cross join lateral (
      select candidate.number
      from (
        select free.number from generate_series(0, lim.max_in_flight - 1) as free(number)
        where lim.in_flight < lim.max_in_flight
          and not exists (select 1 from delivery l where l.endpoint_id = e.id and l.lease_token is not null and l.lease_slot = free.number)
        order by random()
        -- (OFFSET keeps the lock below from being pushed into this scan, where it would lock every free slot.)
        offset 0
      ) candidate
      -- Claims running at the same moment take different free slots instead of colliding on one.
      where pg_try_advisory_xact_lock(hashtext(e.id::text), candidate.number)
      limit 1
    ) slot,
    event ev
  where d.id = $1 and e.id = d.endpoint_id and ev.id = d.event_id
    and e.enabled and d.state in ('pending', 'failed') and d.lease_token is null
    and d.next_attempt_at <= now() + interval '1 second'
  returning d.id, d.endpoint_id, d.event_id, d.series, d.replay, d.attempt_count, d.rate_slot_at, d.lease_slot,
    e.url, e.format, e.secret_sealed,
    case when e.previous_secret_expires_at > now() then e.previous_secret_sealed end as previous_secret_sealed,
    e.rate_limit_per_second, e.failing_since is not null as endpoint_failing,
    ev.type as event_type, ev.payload as event_payload, ev.created_at as event_created_at`,
};

/**
 * What CLAIM_DELIVERY returns, for a delivery RECORD_SUCCESS handed this worker's slot to.
 * $1 delivery id, $2 its lease token. No row: the lease is gone or the endpoint was disabled.
 */
export const LOAD_HANDED_OFF: Statement = {
  name: "delivery_load_handed_off",
  text: `
  select d.id, d.endpoint_id, d.event_id, d.series, d.replay, d.attempt_count, d.rate_slot_at, d.lease_slot,
    e.url, e.format, e.secret_sealed,
    case when e.previous_secret_expires_at > now() then e.previous_secret_sealed end as previous_secret_sealed,
    e.rate_limit_per_second, e.failing_since is not null as endpoint_failing,
    ev.type as event_type, ev.payload as event_payload, ev.created_at as event_created_at
  from delivery d
  join webhook_endpoint e on e.id = d.endpoint_id
  join event ev on ev.id = d.event_id
  where d.id = $1 and d.lease_token = $2 and e.enabled`,
};

/** The unique index that makes in-flight limits exact; a 23505 on it means "that slot was just taken". */
export const LEASE_SLOT_INDEX = "delivery_endpoint_lease_slot_unique";

/**
 * After a claim found nothing: if the delivery is due but its endpoint has no free slot,
 * parks it (waiting_for_slot_since, its job moved to the recheck time) together with up to
 * $4 more of the endpoint's due deliveries that are neither leased nor parked, so that a
 * backlog leaves graphile-worker's queue in a few statements instead of standing in front
 * of other endpoints' jobs. Parked deliveries are woken in order as attempts free slots
 * (WAKE_NEXT_WAITING). $1 delivery id, $2 default max in flight, $3 max in flight while
 * failing, $4 batch, $5 recheck at. `due` 0: nothing to do; `self_parked` 0 with `due` 1:
 * a slot freed meanwhile (or the row was busy), claim again.
 */
export const PARK_DELIVERY: Statement = {
  name: "delivery_park",
  text: `
  with target as (
    select d.id, d.endpoint_id, lim.max_in_flight, lim.in_flight
    from delivery d
    join webhook_endpoint e on e.id = d.endpoint_id
    cross join lateral (
      select case when e.failing_since is not null then $3::int else coalesce(e.max_in_flight, $2::int) end as max_in_flight,
      (select count(*) from delivery l where l.endpoint_id = e.id and l.lease_token is not null) as in_flight
    ) lim
    where d.id = $1 and e.enabled and d.state in ('pending', 'failed') and d.lease_token is null
      and d.next_attempt_at <= now() + interval '1 second'
  ),
  full_endpoint as (select id, endpoint_id from target where in_flight >= max_in_flight),
  self as (
    select d.id from delivery d
    join full_endpoint f on f.id = d.id
    where d.lease_token is null
    for update of d skip locked
  ),
  others as (
    select c.id from full_endpoint f
    cross join lateral (
      select c.id from delivery c
      where c.endpoint_id = f.endpoint_id and c.id <> f.id
        and c.state in ('pending', 'failed') and c.lease_token is null and c.waiting_for_slot_since is null
        and c.next_attempt_at <= now() + interval '1 second'
      order by c.next_attempt_at
      limit $4
      for update skip locked
    ) c
  ),
  parked as (
    update delivery p set waiting_for_slot_since = coalesce(p.waiting_for_slot_since, now())
    where p.id in (select id from self union all select id from others)
    returning p.id, $5::timestamptz as next_attempt_at
  ),
  jobs as (${addDeliveryJobsSql("parked", "next_attempt_at")})
  select (select count(*) from target)::int as due,
    (select count(*) from self)::int as self_parked,
    (select count(*) from parked)::int as parked,
    (select jobs from jobs) as jobs`,
};

export interface ParkedRow {
  due: number;
  self_parked: number;
  parked: number;
}

/**
 * A CTE `woken`: the longest-parked delivery of the endpoint of the CTE `d`, taken off
 * the waiting list; the statement then enqueues its job to run now. The statements that
 * end a lease include it (RECORD_SUCCESS only when it does not hand the slot on: `unless`
 * names the CTE whose row means it did), so each freed slot wakes one waiting delivery;
 * the lease sweep leaves it to WAKE_WAITING_DELIVERIES.
 */
function wakeNextWaiting(unless?: string): string {
  return `
  woken as (
    update delivery w set waiting_for_slot_since = null
    where ${unless ? `not exists (select 1 from ${unless}) and ` : ""}w.id = (
      select p.id from delivery p
      where p.endpoint_id = (select endpoint_id from d) and p.waiting_for_slot_since is not null
        and p.lease_token is null and p.state in ('pending', 'failed')
      order by p.next_attempt_at
      limit 1
      for update skip locked
    )
    returning w.id, null::timestamptz as next_attempt_at
  )`;
}
const WAKE_NEXT_WAITING = wakeNextWaiting();

export interface ClaimedDelivery {
  id: string;
  endpoint_id: string;
  event_id: string;
  series: number;
  replay: boolean;
  attempt_count: number;
  rate_slot_at: Date | null;
  lease_slot: number;
  url: string;
  format: WebhookFormat;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  rate_limit_per_second: number | null;
  endpoint_failing: boolean;
  event_type: string;
  event_payload: Record<string, unknown>;
  event_created_at: Date;
}

/** Takes the next send slot under the endpoint's rate limit; slots are 1/rate apart. $1 endpoint id. */
export const RESERVE_RATE_SLOT: Statement = {
  name: "delivery_reserve_slot",
  text: `
  update webhook_endpoint
  set rate_next_slot_at = greatest(rate_next_slot_at, now()) + interval '1 second' / rate_limit_per_second
  where id = $1 and rate_limit_per_second is not null
  returning rate_next_slot_at - interval '1 second' / rate_limit_per_second as slot, now() as now`,
};

export interface ReservedRateSlot {
  slot: Date;
  now: Date;
}

/**
 * Gives a leased delivery back (lease cleared) to run at $3, with its job, and wakes the
 * next delivery waiting for the slot it frees.
 * $1 delivery id, $2 lease token, $3 run at, $4 reserved rate slot (null: keep).
 */
export const REQUEUE_DELIVERY: Statement = {
  name: "delivery_requeue",
  text: `
  with d as (
    update delivery set next_attempt_at = $3::timestamptz, rate_slot_at = coalesce($4::timestamptz, rate_slot_at),
      lease_token = null, lease_expires_at = null, leased_at = null, lease_slot = null
    where id = $1 and lease_token = $2
    returning id, endpoint_id, next_attempt_at
  ),
  ${WAKE_NEXT_WAITING.trim()},
  queued as (select id, next_attempt_at from d union all select id, next_attempt_at from woken)
  ${addDeliveryJobsSql("queued", "next_attempt_at")}`,
};

/**
 * Enqueues a delivery's job again without touching the row: a claim that kept losing
 * slot races tries again shortly. $1 delivery id, $2 run at.
 */
export const RETRY_DELIVERY_JOB: Statement = {
  name: "delivery_retry_job",
  text: `
  with d as (select $1::uuid as id, $2::timestamptz as next_attempt_at)
  ${addDeliveryJobsSql("d", "next_attempt_at")}`,
};

/**
 * The safety net for wake-ups lost to races (a delivery parking just as the last attempt
 * ended) and to crashes (the sweeper frees slots too): every enabled endpoint with parked
 * deliveries gets as many woken as it has free slots. Run by each worker's maintenance loop.
 * $1 default max in flight, $2 max in flight while failing.
 */
export const WAKE_WAITING_DELIVERIES: Statement = {
  name: "delivery_wake_waiting",
  text: `
  with endpoints as (
    select e.id, lim.max_in_flight - lim.in_flight as free
    from webhook_endpoint e
    cross join lateral (
      select case when e.failing_since is not null then $2::int else coalesce(e.max_in_flight, $1::int) end as max_in_flight,
      (select count(*) from delivery l where l.endpoint_id = e.id and l.lease_token is not null) as in_flight
    ) lim
    where e.enabled and exists (select 1 from delivery w where w.endpoint_id = e.id and w.waiting_for_slot_since is not null)
  ),
  picked as (
    select p.id from endpoints x
    cross join lateral (
      select p.id from delivery p
      where p.endpoint_id = x.id and p.waiting_for_slot_since is not null
      order by p.next_attempt_at
      limit greatest(x.free, 0)
      for update skip locked
    ) p
  ),
  woken as (
    update delivery w set waiting_for_slot_since = null
    from picked
    where w.id = picked.id
    returning w.id
  )
  ${addDeliveryJobsSql("woken")}`,
};

/** What both record statements return; no row (or a null attempt_id): the lease was lost. */
export interface RecordedRow {
  attempt_id: string | null;
  endpoint_id: string;
  event_id: string;
  series: number;
  replay: boolean;
  attempt_count: number;
  next_attempt_at: Date | null;
  disabled_reason: string | null;
  /** RECORD_SUCCESS only: the parked delivery now leased to this worker, on the same slot. */
  handed_off_id?: string | null;
}

/**
 * A success: marks the leased delivery succeeded and logs the attempt, only if the lease
 * is still ours. The slot it frees then goes to the endpoint's longest-parked delivery:
 * with $11 set, leased straight to this worker (token $11, same slot $12, lease $13 ms,
 * if the endpoint's limit, $14 default / $15 while failing, still has room; its parked
 * job is removed), so a backlog flows through the slot without a round trip through the
 * job queue; otherwise (no $11, or no room) woken with a job (WAKE_NEXT_WAITING).
 * $1 delivery id, $2 lease token, $3 started, $4 duration ms, $5 status, $6 response
 * headers, $7 body, $8 worker, $9 attempt id, $10 recovering (the endpoint was failing
 * when claimed, so its run of failures ends here).
 */
export const RECORD_SUCCESS: Statement = {
  name: "delivery_record_success",
  text: `
  with d as (
    update delivery set
      state = 'succeeded', attempt_count = attempt_count + 1, next_attempt_at = null,
      succeeded_at = now(), dead_at = null,
      lease_token = null, lease_expires_at = null, leased_at = null, lease_slot = null, rate_slot_at = null,
      last_attempt_at = $3::timestamptz, last_http_status = $5::int, last_error_class = null
    where id = $1 and lease_token = $2
    returning id, endpoint_id, event_id, series, replay, attempt_count, next_attempt_at
  ),
  attempt as (
    insert into delivery_attempt (id, created_at, delivery_id, endpoint_id, event_id, series, attempt_number, replay,
      started_at, duration_ms, succeeded, http_status, response_headers, response_body, error_class, error_message,
      next_attempt_at, worker)
    select $9::uuid, now(), d.id, d.endpoint_id, d.event_id, d.series, d.attempt_count, d.replay,
      $3::timestamptz, $4::int, true, $5::int, $6::jsonb, $7::text, null, null, null, $8::text
    from d
    returning id
  ),
  healthy as (
    update webhook_endpoint e set failing_since = null
    from d
    where $10::boolean and e.id = d.endpoint_id and e.failing_since is not null
    returning e.id
  ),
  room as (
    select 1 from webhook_endpoint e
    join d on d.endpoint_id = e.id
    where $11::uuid is not null and e.enabled
      and $12::int < case when e.failing_since is not null and not $10::boolean then $15::int else coalesce(e.max_in_flight, $14::int) end
      and (select count(*) from delivery l where l.endpoint_id = e.id and l.lease_token is not null and l.id <> $1)
        < case when e.failing_since is not null and not $10::boolean then $15::int else coalesce(e.max_in_flight, $14::int) end
  ),
  next_waiting as (
    select p.id from delivery p
    where exists (select 1 from room) and p.endpoint_id = (select endpoint_id from d) and p.waiting_for_slot_since is not null
      and p.lease_token is null and p.state in ('pending', 'failed')
    order by p.next_attempt_at
    limit 1
    for update skip locked
  ),
  handed as (
    -- Reads d, so it runs after d has given the slot up (the unique index sees it free).
    update delivery n set lease_token = $11::uuid, lease_expires_at = now() + $13::int * interval '1 millisecond', leased_at = now(),
      lease_slot = $12::int, waiting_for_slot_since = null
    from next_waiting, d
    where n.id = next_waiting.id
    returning n.id
  ),
  handed_job as (select graphile_worker.remove_job('delivery:' || handed.id) from handed),
  ${wakeNextWaiting("handed").trim()},
  jobs as (${addDeliveryJobsSql("woken")})
  -- Selecting from jobs is what runs it: an unreferenced plain CTE is never evaluated.
  select (select id from attempt) as attempt_id, d.endpoint_id, d.event_id, d.series, d.replay, d.attempt_count, d.next_attempt_at,
    null::text as disabled_reason, (select id from handed) as handed_off_id, (select count(*) from handed_job) as removed_jobs,
    (select jobs from jobs) as jobs
  from d`,
};

/**
 * A failure: moves the leased delivery to failed (with the retry's job) or dead, logs the
 * attempt, wakes the next delivery waiting for the slot, and keeps the endpoint's health: the start of its run of failures, and
 * disabling it on 410 or when failing too long. Those endpoint writes happen only when
 * something changes, so a busy endpoint's row is not a hot spot.
 * $1 delivery id, $2 lease token, $3 state (failed or dead), $4 next attempt, $5 started,
 * $6 duration ms, $7 status, $8 headers, $9 body, $10 error class, $11 error message,
 * $12 worker, $13 gone (410), $14 WEBHOOK_DISABLE_AFTER_HOURS, $15 attempt id.
 */
export const RECORD_FAILURE: Statement = {
  name: "delivery_record_failure",
  text: `
  with d as (
    update delivery set
      state = $3::text, attempt_count = attempt_count + 1, next_attempt_at = $4::timestamptz,
      succeeded_at = null, dead_at = case when $3::text = 'dead' then now() end,
      lease_token = null, lease_expires_at = null, leased_at = null, lease_slot = null, rate_slot_at = null,
      last_attempt_at = $5::timestamptz, last_http_status = $7::int, last_error_class = $10::text
    where id = $1 and lease_token = $2
    returning id, endpoint_id, event_id, series, replay, attempt_count, next_attempt_at
  ),
  attempt as (
    insert into delivery_attempt (id, created_at, delivery_id, endpoint_id, event_id, series, attempt_number, replay,
      started_at, duration_ms, succeeded, http_status, response_headers, response_body, error_class, error_message,
      next_attempt_at, worker)
    select $15::uuid, now(), d.id, d.endpoint_id, d.event_id, d.series, d.attempt_count, d.replay,
      $5::timestamptz, $6::int, false, $7::int, $8::jsonb, $9::text, $10::text, $11::text, d.next_attempt_at, $12::text
    from d
    returning id
  ),
  failing as (
    update webhook_endpoint e set
      failing_since = coalesce(e.failing_since, $5::timestamptz),
      enabled = false,
      disabled_at = now(),
      disabled_reason = case when $13::boolean then 'GONE' else 'FAILING' end,
      updated_at = now()
    from d
    where e.id = d.endpoint_id and e.enabled
      and ($13::boolean or e.failing_since < now() - $14::int * interval '1 hour')
    returning e.id, e.disabled_reason
  ),
  failing_since as (
    update webhook_endpoint e set failing_since = $5::timestamptz
    from d
    -- (The disable above sets it when it fires; two CTEs must not update one row.)
    where e.id = d.endpoint_id and e.failing_since is null and not ($13::boolean and e.enabled)
    returning e.id
  ),
  ${WAKE_NEXT_WAITING.trim()},
  queued as (select id, next_attempt_at from d where $3::text = 'failed' union all select id, next_attempt_at from woken),
  jobs as (${addDeliveryJobsSql("queued", "next_attempt_at")})
  select (select id from attempt) as attempt_id, d.endpoint_id, d.event_id, d.series, d.replay, d.attempt_count, d.next_attempt_at,
    (select disabled_reason from failing) as disabled_reason, (select jobs from jobs) as jobs
  from d`,
};

/**
 * Crash recovery: expired leases become a logged "lost" attempt (class timeout) and the
 * delivery is queued again at once, with a fresh job. `skip locked` keeps concurrent
 * sweepers on disjoint rows. $1 worker, $2 batch size, $3 the lost attempt's message.
 */
export const SWEEP_EXPIRED_LEASES: Statement = {
  name: "delivery_sweep_expired_leases",
  text: `
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
      lease_token = null, lease_expires_at = null, leased_at = null, lease_slot = null, rate_slot_at = null,
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
  select a.*, j.jobs from jobs j left join attempt a on true`,
};

export interface SweptRow {
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

/**
 * Jobs locked for longer than a lease ($1 ms) whose delivery is unleased and unfinished
 * get a fresh job (adding a job under a locked job's key creates a new one and retires
 * the old). graphile-worker's job table has no index on locked_at: run it rarely.
 */
export const REQUEUE_STRANDED_JOBS: Statement = {
  name: "delivery_requeue_stranded_jobs",
  text: `
  with stale as (
    select substring(j.key from length('delivery:') + 1)::uuid as delivery_id
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
  ${addDeliveryJobsSql("d", "next_attempt_at")}`,
};
