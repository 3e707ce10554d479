import type { EntityManager } from "@mikro-orm/postgresql";
import { queueStats, type EndpointQueueStats } from "./queue-stats";
import { toDate } from "../db/sql";

/** How many recent attempts the endpoint's health figures are computed over. */
export const RECENT_ATTEMPTS = 100;

export interface EndpointStats extends Omit<EndpointQueueStats, "endpointId" | "enabled"> {
  recentAttempts: number;
  recentSucceeded: number;
  recentFailed: number;
  averageDurationMs: number | null;
  lastAttemptAt: Date | null;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
}

/** Queue figures plus health over the last RECENT_ATTEMPTS attempts: bounded work per endpoint. */
export async function endpointStats(em: EntityManager, endpointId: string): Promise<EndpointStats> {
  const stats = await queueStats(em, { endpointId });
  const queue = stats.endpoints[0];
  const [recent] = await em.execute<Array<{ n: string; ok: string; avg: number | null; last: string | null; last_ok: string | null; last_fail: string | null }>>(
    `select count(*) as n, count(*) filter (where succeeded) as ok, avg(duration_ms)::float8 as avg,
       max(started_at) as last, max(started_at) filter (where succeeded) as last_ok, max(started_at) filter (where not succeeded) as last_fail
     from (select succeeded, started_at, duration_ms from delivery_attempt where endpoint_id = ?::uuid order by started_at desc limit ?) recent`,
    [endpointId, RECENT_ATTEMPTS],
  );
  const attempts = Number(recent?.n ?? 0);
  const succeeded = Number(recent?.ok ?? 0);
  return {
    pending: queue?.pending ?? 0,
    dueNow: queue?.dueNow ?? 0,
    scheduledRetries: queue?.scheduledRetries ?? 0,
    inFlight: queue?.inFlight ?? 0,
    dead: queue?.dead ?? 0,
    oldestPendingAgeSeconds: queue?.oldestPendingAgeSeconds ?? null,
    recentAttempts: attempts,
    recentSucceeded: succeeded,
    recentFailed: attempts - succeeded,
    averageDurationMs: recent?.avg === null || recent?.avg === undefined ? null : Math.round(recent.avg),
    lastAttemptAt: toDate(recent?.last),
    lastSuccessAt: toDate(recent?.last_ok),
    lastFailureAt: toDate(recent?.last_fail),
  };
}
