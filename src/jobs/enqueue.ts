import type { EntityManager } from "@mikro-orm/postgresql";

export interface EnqueueOptions {
  /** At most one pending job per key: re-adding replaces it (graphile-worker's job_key). */
  jobKey?: string;
  jobKeyMode?: "replace" | "preserve_run_at" | "unsafe_dedupe";
  runAt?: Date;
  maxAttempts?: number;
  queueName?: string;
  priority?: number;
}

/**
 * Adds a graphile-worker job through the EntityManager's own connection, so inside
 * `em.transactional()` the job commits or rolls back with the rows that caused it.
 */
export async function enqueueJob(em: EntityManager, task: string, payload: object, options: EnqueueOptions = {}): Promise<void> {
  await em.execute(
    `select graphile_worker.add_job(
       identifier => ?, payload => cast(? as json), queue_name => ?, run_at => ?,
       max_attempts => ?, job_key => ?, priority => ?, job_key_mode => ?)`,
    [
      task,
      JSON.stringify(payload),
      options.queueName ?? null,
      options.runAt ?? null,
      options.maxAttempts ?? null,
      options.jobKey ?? null,
      options.priority ?? null,
      options.jobKey ? (options.jobKeyMode ?? "replace") : null,
    ],
  );
}
