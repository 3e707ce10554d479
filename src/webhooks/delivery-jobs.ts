/**
 * How deliveries meet graphile-worker: one `delivery__attempt` job per delivery, keyed
 * `delivery:<id>` so re-adding moves the pending job instead of duplicating it. The
 * fragments below are spliced into set-based SQL so a statement that creates or
 * reschedules deliveries also enqueues their jobs, in the same transaction.
 */

export const DELIVERY_ATTEMPT_TASK = "delivery__attempt";
/** Runs one `replayFailedDeliveries` request in the background. */
export const REPLAY_BATCH_TASK = "delivery_replay_batch__run";

export function deliveryJobKey(deliveryId: string): string {
  return `delivery:${deliveryId}`;
}

/** A graphile_worker.job_spec for the delivery whose id is `idSql`, due at `runAtSql` (null: now). */
export function deliveryJobSpecSql(idSql: string, runAtSql = "null::timestamptz"): string {
  return `row('${DELIVERY_ATTEMPT_TASK}', json_build_object('deliveryId', ${idSql}), null, ${runAtSql}, null, 'delivery:' || ${idSql}, null, null)::graphile_worker.job_spec`;
}

/**
 * `select ... from <source>` that enqueues one job per row of `source` (a CTE with `id`
 * and, optionally, `next_attempt_at`), as a single add_jobs call; no rows, no call.
 */
export function addDeliveryJobsSql(source: string, runAtColumn?: string): string {
  const spec = deliveryJobSpecSql(`${source}.id`, runAtColumn ? `${source}.${runAtColumn}` : undefined);
  // HAVING makes the subquery empty when there is nothing to enqueue, so add_jobs is not called at all.
  return `select count(*) as jobs
    from (select array_agg(${spec}) as specs from ${source} having count(*) > 0) batch
    cross join lateral graphile_worker.add_jobs(batch.specs)`;
}

export interface DeliveryJobPayload {
  deliveryId: string;
}

export function isDeliveryJobPayload(payload: unknown): payload is DeliveryJobPayload {
  return typeof payload === "object" && payload !== null && typeof (payload as { deliveryId?: unknown }).deliveryId === "string";
}
