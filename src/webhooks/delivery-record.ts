import type pg from "pg";
import { newId } from "../common/ids";
import type { Logger } from "../common/logger";
import type { WebhookConfig } from "../config";
import { attemptNotices, recordedOutcome, type AttemptDecision } from "./attempt-decision";
import type { AttemptOutcome, RecordedAttempt } from "./delivery-engine";
import { RECORD_FAILURE, RECORD_SUCCESS, type ClaimedDelivery, type RecordedRow } from "./delivery.statements";
import type { AttemptResult } from "./http-attempt";
import type { WebhookMetrics } from "./metrics";

export interface RecordDeps {
  pool: pg.Pool;
  config: WebhookConfig;
  log: Logger;
  metrics: WebhookMetrics;
  workerName: string;
  onAttemptRecorded?: (attempt: RecordedAttempt) => void;
}

function recordQuery(deps: RecordDeps, claimed: ClaimedDelivery, token: string, result: AttemptResult, decision: AttemptDecision): pg.QueryConfig {
  const attemptId = newId();
  const headers = result.responseHeaders === null ? null : JSON.stringify(result.responseHeaders);
  if (decision.state === "succeeded") {
    return {
      ...RECORD_SUCCESS,
      values: [claimed.id, token, result.startedAt, result.durationMs, result.httpStatus, headers, result.responseBody, deps.workerName, attemptId, claimed.endpoint_failing],
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

/**
 * Records the attempt as decided, in one statement (one short transaction) and only if
 * the lease is still ours; then metrics, the log, and the attempt callback.
 */
export async function recordAttempt(
  deps: RecordDeps,
  claimed: ClaimedDelivery,
  token: string,
  result: AttemptResult,
  decision: AttemptDecision,
): Promise<AttemptOutcome> {
  const { rows } = await deps.pool.query<RecordedRow>(recordQuery(deps, claimed, token, result, decision));
  const row = rows[0];
  deps.metrics.attemptDuration.observe({ outcome: result.succeeded ? "success" : "failure" }, result.durationMs / 1_000);
  if (result.errorClass) deps.metrics.attemptErrors.inc({ error_class: result.errorClass });
  if (!row?.attempt_id) {
    deps.log.warn({ deliveryId: claimed.id }, "delivery lease expired before the attempt was recorded; the sweeper logged it as lost");
    return "lease_lost";
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
  return outcome;
}
