import type { EntityManager } from "@mikro-orm/postgresql";
import type { LiveSample } from "../live/state-sampler";
import { JobQueueStats } from "./job-queue.types";

interface JobQueueRow {
  due: number;
  scheduled: number;
  running: number;
  failed: number;
  oldest_due_age_seconds: number | null;
}

/**
 * Counts over graphile-worker's `jobs` view (its documented admin view). The queue
 * holds only unfinished and permanently failed jobs, so this stays small.
 */
export async function loadJobQueueStats(em: EntityManager): Promise<JobQueueStats> {
  const [row] = await em.execute<JobQueueRow[]>(
    `select
       count(*) filter (where locked_at is null and attempts < max_attempts and run_at <= now())::int as due,
       count(*) filter (where locked_at is null and attempts < max_attempts and run_at > now())::int as scheduled,
       count(*) filter (where locked_at is not null)::int as running,
       count(*) filter (where locked_at is null and attempts >= max_attempts)::int as failed,
       floor(extract(epoch from now() - min(run_at) filter (
         where locked_at is null and attempts < max_attempts and run_at <= now())))::int as oldest_due_age_seconds
     from graphile_worker.jobs`,
  );
  return Object.assign(new JobQueueStats(), {
    due: row?.due ?? 0,
    scheduled: row?.scheduled ?? 0,
    running: row?.running ?? 0,
    failed: row?.failed ?? 0,
    oldestDueAgeSeconds: row?.oldest_due_age_seconds ?? null,
  });
}

/** Sampled by the worker; a change is announced to every api process (state-sampler.ts). */
export const jobQueueSample: LiveSample = {
  topic: "jobs.queue_changed",
  sample: loadJobQueueStats,
};
