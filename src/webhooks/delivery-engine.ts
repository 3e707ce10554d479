import { randomUUID } from "node:crypto";
import type pg from "pg";
import { newId } from "../common/ids";
import type { Logger } from "../common/logger";
import type { SecretBox } from "../common/secret-box";
import type { WebhookConfig } from "../config";
import { addDeliveryJobsSql } from "./delivery-jobs";
import type { AttemptResult, HttpAttemptClient } from "./http-attempt";
import type { WebhookMetrics } from "./metrics";
import { renderPostbackUrl } from "./postback-template";
import { nextRetryDelay, parseRetryAfter } from "./retry-schedule";
import { signatureHeader } from "./signing";
import { WebhookFormat } from "./webhook-endpoint.entity";
import { HUB_VERSION } from "../common/version";

/**
 * The hot statements run as named (prepared) statements: Postgres parses and plans each
 * once per connection instead of once per attempt.
 *
 * The delivery engine: one attempt of one delivery, as the `delivery__attempt` task runs it.
 *
 * 1. Claim: one UPDATE leases the delivery row (token + expiry) if it is due, unfinished,
 *    unleased and its endpoint enabled. The lease, not graphile-worker's job lock, is
 *    what stops two workers from sending the same attempt: a second job for the same
 *    delivery (a replay, a re-enable) finds it leased and leaves.
 * 2. Rate limit: an endpoint with rateLimitPerSecond hands out send slots from its row;
 *    a delivery whose slot is later is re-queued for that time (delayed, not failed).
 * 3. Send, with the SSRF guard and a hard deadline (WEBHOOK_TIMEOUT_MS < lease).
 * 4. Record: one statement (so one short transaction) writes the attempt, moves the
 *    delivery on (succeeded / failed with the next retry's job / dead), and updates the
 *    endpoint's health (410 or failing too long disables it), only if the lease is still ours.
 *
 * A worker that dies mid-attempt leaves its lease to expire; `sweepExpiredLeases`
 * (delivery-sweeper.ts, run by every worker process) records the lost attempt and
 * re-queues the delivery at once.
 */

export type AttemptOutcome = "skipped" | "deferred" | "released" | "succeeded" | "retrying" | "dead" | "lease_lost";

/** What the attempt log holds for one attempt: also what live subscribers are told. */
export interface RecordedAttempt {
  attemptId: string;
  deliveryId: string;
  endpointId: string;
  eventId: string;
  series: number;
  attemptNumber: number;
  replay: boolean;
  startedAt: Date;
  durationMs: number;
  succeeded: boolean;
  httpStatus: number | null;
  errorClass: string | null;
  errorMessage: string | null;
  nextAttemptAt: Date | null;
  /** The delivery's state after this attempt. */
  deliveryState: "succeeded" | "failed" | "dead";
  worker: string;
}

export interface DeliveryEngineDeps {
  pool: pg.Pool;
  secrets: SecretBox;
  config: WebhookConfig;
  http: HttpAttemptClient;
  log: Logger;
  metrics: WebhookMetrics;
  /** `host:pid`, recorded on each attempt. */
  workerName: string;
  /** Called after an attempt is committed to the log (the live layer hooks in here). */
  onAttemptRecorded?: (attempt: RecordedAttempt) => void;
  random?: () => number;
}

export interface DeliveryEngine {
  attempt(deliveryId: string, signal?: AbortSignal): Promise<AttemptOutcome>;
}

interface ClaimedDelivery {
  id: string;
  endpoint_id: string;
  event_id: string;
  series: number;
  replay: boolean;
  attempt_count: number;
  rate_slot_at: Date | null;
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

const CLAIM_SQL = `
  update delivery d
  set lease_token = $2, lease_expires_at = now() + $3::int * interval '1 millisecond', leased_at = now()
  from webhook_endpoint e, event ev
  where d.id = $1 and e.id = d.endpoint_id and ev.id = d.event_id
    and e.enabled and d.state in ('pending', 'failed') and d.lease_token is null
    and d.next_attempt_at <= now() + interval '1 second'
  returning d.id, d.endpoint_id, d.event_id, d.series, d.replay, d.attempt_count, d.rate_slot_at,
    e.url, e.format, e.secret_sealed,
    case when e.previous_secret_expires_at > now() then e.previous_secret_sealed end as previous_secret_sealed,
    e.rate_limit_per_second, e.failing_since is not null as endpoint_failing,
    ev.type as event_type, ev.payload as event_payload, ev.created_at as event_created_at`;

/** Takes the next send slot under the endpoint's rate limit; slots are 1/rate apart. */
const RESERVE_SLOT_SQL = `
  update webhook_endpoint
  set rate_next_slot_at = greatest(rate_next_slot_at, now()) + interval '1 second' / rate_limit_per_second
  where id = $1 and rate_limit_per_second is not null
  returning rate_next_slot_at - interval '1 second' / rate_limit_per_second as slot, now() as now`;

/** Gives the delivery back (lease cleared) to run at $3, with its job. */
const REQUEUE_SQL = `
  with d as (
    update delivery set next_attempt_at = $3::timestamptz, rate_slot_at = coalesce($4::timestamptz, rate_slot_at),
      lease_token = null, lease_expires_at = null, leased_at = null
    where id = $1 and lease_token = $2
    returning id, next_attempt_at
  )
  ${addDeliveryJobsSql("d", "next_attempt_at")}`;

/** Moves the leased delivery on and logs the attempt: $1 id, $2 lease token, then `fields`. */
const recordAttemptSql = (fields: { state: string; nextAttemptAt: string; startedAt: string; httpStatus: string; errorClass: string; attemptSql: string }) => `
  d as (
    update delivery set
      state = ${fields.state}, attempt_count = attempt_count + 1, next_attempt_at = ${fields.nextAttemptAt},
      succeeded_at = case when ${fields.state} = 'succeeded' then now() end,
      dead_at = case when ${fields.state} = 'dead' then now() end,
      lease_token = null, lease_expires_at = null, leased_at = null, rate_slot_at = null,
      last_attempt_at = ${fields.startedAt}, last_http_status = ${fields.httpStatus}, last_error_class = ${fields.errorClass}
    where id = $1 and lease_token = $2
    returning id, endpoint_id, event_id, series, replay, attempt_count, next_attempt_at
  ),
  attempt as (
    insert into delivery_attempt (id, created_at, delivery_id, endpoint_id, event_id, series, attempt_number, replay,
      started_at, duration_ms, succeeded, http_status, response_headers, response_body, error_class, error_message,
      next_attempt_at, worker)
    select ${fields.attemptSql}
    from d
    returning id
  )`;

/**
 * A success: $3 started, $4 duration ms, $5 status, $6 headers, $7 body, $8 worker, $9 attempt id.
 * `recovering`: the endpoint was failing when claimed, so its run of failures ends here.
 */
const successSql = (recovering: boolean) => `
  with ${recordAttemptSql({
    state: "'succeeded'",
    nextAttemptAt: "null::timestamptz",
    startedAt: "$3::timestamptz",
    httpStatus: "$5::int",
    errorClass: "null::text",
    attemptSql: `$9::uuid, now(), d.id, d.endpoint_id, d.event_id, d.series, d.attempt_count, d.replay,
      $3::timestamptz, $4::int, true, $5::int, $6::jsonb, $7::text, null, null, null, $8::text`,
  })}${recovering ? `,
  healthy as (
    update webhook_endpoint e set failing_since = null
    from d
    where e.id = d.endpoint_id and e.failing_since is not null
    returning e.id
  )` : ""}
  select (select id from attempt) as attempt_id, d.endpoint_id, d.event_id, d.series, d.replay, d.attempt_count, d.next_attempt_at,
    null::text as disabled_reason
  from d`;

/**
 * A failure: $3 state (failed or dead), $4 next attempt, $5 started, $6 duration ms, $7 status,
 * $8 headers, $9 body, $10 error class, $11 error message, $12 worker, $13 gone (410),
 * $14 WEBHOOK_DISABLE_AFTER_HOURS, $15 attempt id. Also keeps the endpoint's health: the
 * start of its run of failures, and disabling it on 410 or when failing too long. Those
 * endpoint writes happen only when something changes, so a busy endpoint's row is not a
 * hot spot.
 */
const FAILURE_SQL = `
  with ${recordAttemptSql({
    state: "$3::text",
    nextAttemptAt: "$4::timestamptz",
    startedAt: "$5::timestamptz",
    httpStatus: "$7::int",
    errorClass: "$10::text",
    attemptSql: `$15::uuid, now(), d.id, d.endpoint_id, d.event_id, d.series, d.attempt_count, d.replay,
      $5::timestamptz, $6::int, false, $7::int, $8::jsonb, $9::text, $10::text, $11::text, d.next_attempt_at, $12::text`,
  })},
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
  retry as (select id, next_attempt_at from d where $3::text = 'failed'),
  jobs as (${addDeliveryJobsSql("retry", "next_attempt_at")})
  select (select id from attempt) as attempt_id, d.endpoint_id, d.event_id, d.series, d.replay, d.attempt_count, d.next_attempt_at,
    (select disabled_reason from failing) as disabled_reason, (select jobs from jobs) as jobs
  from d`;

const SUCCESS_SQL = successSql(false);
const RECOVERY_SQL = successSql(true);

const USER_AGENT = `affiliate-hub-webhooks/${HUB_VERSION}`;
/** Opened secrets, by sealed text; bounded so a hub with many endpoints cannot grow it forever. */
const MAX_CACHED_SECRETS = 1_000;

export function createDeliveryEngine(deps: DeliveryEngineDeps): DeliveryEngine {
  const { pool, config, log, metrics } = deps;
  const random = deps.random ?? Math.random;
  const openedSecrets = new Map<string, string>();

  function openSecret(sealed: string): string {
    let secret = openedSecrets.get(sealed);
    if (secret === undefined) {
      secret = deps.secrets.open(sealed);
      if (openedSecrets.size >= MAX_CACHED_SECRETS) openedSecrets.clear();
      openedSecrets.set(sealed, secret);
    }
    return secret;
  }

  function buildRequest(claimed: ClaimedDelivery, timestampSeconds: number) {
    const common = { "user-agent": USER_AGENT, "webhook-id": claimed.event_id, "webhook-timestamp": String(timestampSeconds) };
    if (claimed.format === WebhookFormat.POSTBACK_URL) {
      const url = renderPostbackUrl(claimed.url, claimed.event_payload, timestampSeconds);
      return { method: "GET" as const, url, headers: common, body: undefined };
    }
    const body = JSON.stringify({ type: claimed.event_type, timestamp: claimed.event_created_at.toISOString(), data: claimed.event_payload });
    const secrets = [openSecret(claimed.secret_sealed)];
    if (claimed.previous_secret_sealed) secrets.push(openSecret(claimed.previous_secret_sealed));
    return {
      method: "POST" as const,
      url: claimed.url,
      headers: { ...common, "content-type": "application/json", "webhook-signature": signatureHeader(secrets, claimed.event_id, timestampSeconds, body) },
      body,
    };
  }

  async function requeue(deliveryId: string, token: string, runAt: Date | "now", rateSlot?: Date): Promise<void> {
    const at = runAt === "now" ? new Date() : runAt;
    await pool.query({ name: "delivery_requeue", text: REQUEUE_SQL, values: [deliveryId, token, at, rateSlot ?? null] });
  }

  /** Returns a later slot to wait for, or undefined to send now. */
  async function rateLimitWait(claimed: ClaimedDelivery): Promise<Date | undefined> {
    if (!claimed.rate_limit_per_second) return undefined;
    if (claimed.rate_slot_at) {
      // A slot reserved earlier: ours to use once it has come.
      return claimed.rate_slot_at.getTime() - Date.now() > SLOT_TOLERANCE_MS ? claimed.rate_slot_at : undefined;
    }
    const { rows } = await pool.query<{ slot: Date; now: Date }>({ name: "delivery_reserve_slot", text: RESERVE_SLOT_SQL, values: [claimed.endpoint_id] });
    const reserved = rows[0];
    if (!reserved) return undefined;
    return reserved.slot.getTime() - reserved.now.getTime() > SLOT_TOLERANCE_MS ? reserved.slot : undefined;
  }

  async function complete(claimed: ClaimedDelivery, token: string, result: AttemptResult): Promise<AttemptOutcome> {
    const attemptNumber = claimed.attempt_count + 1;
    let state: "succeeded" | "failed" | "dead" = "succeeded";
    let nextAttemptAt: Date | null = null;
    if (!result.succeeded) {
      const honoursRetryAfter = result.httpStatus === 429 || result.httpStatus === 503;
      const retryAfterMs = honoursRetryAfter ? parseRetryAfter(result.responseHeaders?.["retry-after"]) : undefined;
      const delay = nextRetryDelay(config.retryScheduleMs, attemptNumber, { retryAfterMs, random });
      if (delay === undefined) state = "dead";
      else {
        state = "failed";
        // Counted from the end of this attempt, so the log shows the schedule exactly.
        nextAttemptAt = new Date(result.startedAt.getTime() + result.durationMs + delay);
      }
    }
    const attemptId = newId();
    const headers = result.responseHeaders === null ? null : JSON.stringify(result.responseHeaders);
    const [name, sql, params]: [string, string, unknown[]] =
      state === "succeeded"
        ? [
            claimed.endpoint_failing ? "delivery_record_recovery" : "delivery_record_success",
            claimed.endpoint_failing ? RECOVERY_SQL : SUCCESS_SQL,
            [claimed.id, token, result.startedAt, result.durationMs, result.httpStatus, headers, result.responseBody, deps.workerName, attemptId],
          ]
        : [
            "delivery_record_failure",
            FAILURE_SQL,
            [
              claimed.id, token, state, nextAttemptAt, result.startedAt, result.durationMs, result.httpStatus, headers, result.responseBody,
              result.errorClass, result.errorMessage, deps.workerName, result.httpStatus === 410, config.disableAfterHours, attemptId,
            ],
          ];
    const { rows } = await pool.query<{
      attempt_id: string | null;
      endpoint_id: string;
      event_id: string;
      series: number;
      replay: boolean;
      attempt_count: number;
      next_attempt_at: Date | null;
      disabled_reason: string | null;
    }>({ name, text: sql, values: params });
    const row = rows[0];
    metrics.attemptDuration.observe({ outcome: result.succeeded ? "success" : "failure" }, result.durationMs / 1_000);
    if (result.errorClass) metrics.attemptErrors.inc({ error_class: result.errorClass });
    if (!row?.attempt_id) {
      log.warn({ deliveryId: claimed.id }, "delivery lease expired before the attempt was recorded; the sweeper logged it as lost");
      return "lease_lost";
    }
    const outcome: AttemptOutcome = state === "succeeded" ? "succeeded" : state === "dead" ? "dead" : "retrying";
    metrics.deliveries.inc({ outcome });
    const logFields = { deliveryId: claimed.id, endpointId: row.endpoint_id, eventId: row.event_id, attempt: row.attempt_count, httpStatus: result.httpStatus, errorClass: result.errorClass };
    if (state === "dead") log.warn(logFields, "delivery is dead: every attempt failed");
    else log.debug({ ...logFields, state }, "delivery attempt recorded");
    if (row.disabled_reason) log.warn({ endpointId: row.endpoint_id, reason: row.disabled_reason }, "webhook endpoint disabled");
    deps.onAttemptRecorded?.({
      attemptId: row.attempt_id,
      deliveryId: claimed.id,
      endpointId: row.endpoint_id,
      eventId: row.event_id,
      series: row.series,
      attemptNumber: row.attempt_count,
      replay: row.replay,
      startedAt: result.startedAt,
      durationMs: result.durationMs,
      succeeded: result.succeeded,
      httpStatus: result.httpStatus,
      errorClass: result.errorClass,
      errorMessage: result.errorMessage,
      nextAttemptAt: row.next_attempt_at,
      deliveryState: state,
      worker: deps.workerName,
    });
    return outcome;
  }

  async function attempt(deliveryId: string, signal?: AbortSignal): Promise<AttemptOutcome> {
    const token = randomUUID();
    const { rows } = await pool.query<ClaimedDelivery>({ name: "delivery_claim", text: CLAIM_SQL, values: [deliveryId, token, config.leaseMs] });
    const claimed = rows[0];
    if (!claimed) return "skipped";

    const wait = await rateLimitWait(claimed);
    if (wait) {
      await requeue(claimed.id, token, wait, wait);
      return "deferred";
    }

    let result: AttemptResult;
    try {
      const timestampSeconds = Math.floor(Date.now() / 1_000);
      const request = buildRequest(claimed, timestampSeconds);
      result = await deps.http.send({ ...request, timeoutMs: config.timeoutMs, signal });
    } catch (error) {
      // Nothing left the process (e.g. a secret sealed under another HUB_ENCRYPTION_KEY):
      // log it as a failed attempt so the schedule, the dead state and the alert still apply.
      const message = error instanceof Error ? error.message : String(error);
      log.error({ err: error, deliveryId }, "could not prepare a webhook request");
      result = {
        startedAt: new Date(), durationMs: 0, succeeded: false, httpStatus: null, responseHeaders: null, responseBody: null,
        errorClass: "connection", errorMessage: `request not sent: ${message}`, aborted: false,
      };
    }
    if (result.aborted) {
      // Shutting down: give the delivery back for another worker to take at once.
      await requeue(claimed.id, token, "now");
      return "released";
    }
    return complete(claimed, token, result);
  }

  return { attempt };
}

/** A reserved slot this close to now is sent at once. */
const SLOT_TOLERANCE_MS = 5;
