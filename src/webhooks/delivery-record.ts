import type pg from "pg";
import { newId } from "../common/ids";
import type { Logger } from "../common/logger";
import type { WebhookConfig } from "../config";
import { attemptNotices, recordedOutcome, type AttemptDecision } from "./attempt-decision";
import type { AttemptOutcome, RecordedAttempt } from "./delivery-engine";
import { RECORD_FAILURE, RECORD_SUCCESS, type ClaimedDelivery, type RecordedRow } from "./delivery.statements";
import type { AttemptResult } from "./http-attempt";
import { FAILING_ENDPOINT_MAX_IN_FLIGHT } from "./in-flight-limit";
import type { WebhookMetrics } from "./metrics";

export interface RecordDeps {
  pool: pg.Pool;
  config: WebhookConfig;
  log: Logger;
  metrics: WebhookMetrics;
  workerName: string;
  onAttemptRecorded?: (attempt: RecordedAttempt) => void;
}

function recordQuery(
  deps: RecordDeps,
  claimed: ClaimedDelivery,
  token: string,
  result: AttemptResult,
  decision: AttemptDecision,
  handOffToken: string | null,
): pg.QueryConfig {
  const attemptId = newId();
  const headers = result.responseHeaders === null ? null : JSON.stringify(result.responseHeaders);
  if (decision.state === "succeeded") {
    const { config } = deps;
    return {
      ...RECORD_SUCCESS,
      values: [
        claimed.id, token, result.startedAt, result.durationMs, result.httpStatus, headers, result.responseBody, deps.workerName, attemptId, claimed.endpoint_failing,
        handOffToken, claimed.lease_slot, config.leaseMs, config.maxInFlightPerEndpoint, FAILING_ENDPOINT_MAX_IN_FLIGHT,
      ],
    };
  }
  return {
    ...RECORD_FAILURE,
    values: [
      claimed.id, token, decision.state, decision.nextAttemptAt, result.startedAt, result.durationMs, result.httpStatus, headers, result.responseBody,
      result.errorClass, result.errorMessage, deps.workerName, decision.endpointGone, deps.config.disableAfterHours, attemptId,
    ],
  };
}

export interface Recorded {
  outcome: AttemptOutcome;
  /** A success handed the slot on: this parked delivery is now leased to us with the hand-off token. */
  handedOffId: string | null;
}

/**
 * Records the attempt as decided, in one statement (one short transaction) and only if
 * the lease is still ours; then metrics, the log, and the attempt callback. With
 * `handOffToken`, a success leases the endpoint's longest-parked delivery to this worker.
 */
export async function recordAttempt(
  deps: RecordDeps,
  claimed: ClaimedDelivery,
  token: string,
  result: AttemptResult,
  decision: AttemptDecision,
  handOffToken: string | null = null,
): Promise<Recorded> {
  const { rows } = await deps.pool.query<RecordedRow>(recordQuery(deps, claimed, token, result, decision, handOffToken));
  const row = rows[0];
  deps.metrics.attemptDuration.observe({ outcome: result.succeeded ? "success" : "failure" }, result.durationMs / 1_000);
  if (result.errorClass) deps.metrics.attemptErrors.inc({ error_class: result.errorClass });
  if (!row?.attempt_id) {
    deps.log.warn({ deliveryId: claimed.id }, "delivery lease expired before the attempt was recorded; the sweeper logged it as lost");
    return { outcome: "lease_lost", handedOffId: null };
  }
  const outcome = recordedOutcome(decision.state);
  deps.metrics.deliveries.inc({ outcome });
  const deliveryFields = { deliveryId: claimed.id, endpointId: row.endpoint_id, eventId: row.event_id, attempt: row.attempt_count, httpStatus: result.httpStatus, errorClass: result.errorClass };
  for (const notice of attemptNotices(decision.state, row.disabled_reason)) {
    const fields = notice.disabledReason ? { endpointId: row.endpoint_id, reason: notice.disabledReason } : { ...deliveryFields, state: decision.state };
    if (notice.level === "warn") deps.log.warn(fields, notice.message);
    else deps.log.debug(fields, notice.message);
  }
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
    deliveryState: decision.state,
    worker: deps.workerName,
  });
  return { outcome, handedOffId: row.handed_off_id ?? null };
}
