import type { Task } from "graphile-worker";
import type { Hub } from "../../context";
import { DeliveryReplayBatch, ReplayBatchState } from "../delivery-replay-batch.entity";
import { MAX_REPLAY_DELIVERIES, restartDeliveries } from "../delivery.service";

/** Deliveries restarted per transaction: short transactions, visible progress. */
const CHUNK = 500;

/**
 * `delivery_replay_batch__run { batchId }`: restarts the failed and dead deliveries of the
 * batch's endpoint and window, oldest first, at most MAX_REPLAY_DELIVERIES. Safe to run
 * again after a crash: restarted deliveries are pending, so a rerun only finds the rest.
 */
export function replayBatchTask(hub: Hub): Task {
  return async (payload) => {
    const batchId = (payload as { batchId?: unknown }).batchId;
    if (typeof batchId !== "string") return;
    const em = hub.orm.em.fork();
    const batch = await em.findOne(DeliveryReplayBatch, { id: batchId });
    if (!batch || batch.state === ReplayBatchState.DONE || batch.state === ReplayBatchState.FAILED) return;
    try {
      const remaining = MAX_REPLAY_DELIVERIES - batch.replayed;
      const candidates = await em.execute<Array<{ id: string }>>(
        `select id from delivery
         where endpoint_id = ?::uuid and state in ('failed', 'dead') and created_at >= ? and created_at < ?
         order by created_at, id
         limit ?`,
        [batch.endpointId, batch.since, batch.until, Math.max(0, remaining)],
      );
      batch.state = ReplayBatchState.RUNNING;
      batch.matched ??= candidates.length;
      await em.flush();
      for (let start = 0; start < candidates.length; start += CHUNK) {
        const ids = candidates.slice(start, start + CHUNK).map((row) => row.id);
        const restarted = await em.transactional((tx) =>
          restartDeliveries(tx, { sql: "id in (select unnest(string_to_array(?::text, ',')::uuid[])) and state in ('failed', 'dead')", params: [ids.join(",")] }),
        );
        batch.replayed += restarted.length;
        await em.flush();
      }
      batch.state = ReplayBatchState.DONE;
      batch.finishedAt = new Date();
      await em.flush();
      hub.log.info({ batchId, matched: batch.matched, replayed: batch.replayed }, "failed deliveries replayed");
    } catch (error) {
      batch.error = error instanceof Error ? error.message : String(error);
      await em.flush().catch(() => {});
      throw new Error(`replay batch ${batchId} failed`, { cause: error });
    }
  };
}
