import type pg from "pg";
import type { Logger } from "../common/logger";
import type { WebhookConfig } from "../config";
import type { RecordedAttempt } from "./delivery-engine";
import { REQUEUE_STRANDED_JOBS, SWEEP_EXPIRED_LEASES, WAKE_WAITING_DELIVERIES, type SweptRow } from "./delivery.statements";
import { FAILING_ENDPOINT_MAX_IN_FLIGHT } from "./in-flight-limit";
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
export const LOST_ATTEMPT_MESSAGE = "lost: the worker making this attempt stopped before recording it (its lease expired); retrying at once";
const SWEEP_BATCH = 500;

export async function sweepExpiredLeases(
  pool: pg.Pool,
  deps: { workerName: string; metrics: WebhookMetrics; log: Logger; onAttemptRecorded?: (attempt: RecordedAttempt) => void },
  limit = SWEEP_BATCH,
): Promise<number> {
  const { rows } = await pool.query<SweptRow>({ ...SWEEP_EXPIRED_LEASES, values: [deps.workerName, limit, LOST_ATTEMPT_MESSAGE] });
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
 * graphile-worker's four hours. Those deliveries get a fresh job once their job has been
 * locked for longer than a lease. The scan has no index to use, so it runs once per lease
 * period rather than every sweep.
 */
export async function requeueStrandedJobs(pool: pg.Pool, leaseMs: number, log: Logger): Promise<number> {
  const { rows } = await pool.query<{ jobs: string }>({ ...REQUEUE_STRANDED_JOBS, values: [leaseMs] });
  const requeued = Number(rows[0]?.jobs ?? 0);
  if (requeued > 0) log.warn({ requeued }, "re-queued deliveries whose worker stopped before starting them");
  return requeued;
}

/**
 * Parked deliveries are woken by the attempt that frees their slot. A wake-up can be lost
 * (a delivery parking while the endpoint's last attempt ends, or a slot freed by the lease
 * sweep above): each sweep also wakes, per endpoint, as many parked deliveries as it has
 * free slots.
 */
export async function wakeWaitingDeliveries(pool: pg.Pool, config: Pick<WebhookConfig, "maxInFlightPerEndpoint">): Promise<number> {
  const { rows } = await pool.query<{ jobs: string }>({ ...WAKE_WAITING_DELIVERIES, values: [config.maxInFlightPerEndpoint, FAILING_ENDPOINT_MAX_IN_FLIGHT] });
  return Number(rows[0]?.jobs ?? 0);
}
