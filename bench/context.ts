import type pg from "pg";
import type { BenchServer } from "./database";
import type { BenchHub } from "./hub-process";
import type { Sizes } from "./sizes";

/** What every scenario gets: the running hub, its database, the sizes for this mode, and the ledger of checks. */
export interface BenchContext {
  readonly mode: "full" | "smoke";
  readonly sizes: Sizes;
  /** WORKER_CONCURRENCY of the hub and of the delivery baseline (the hub's default unless --worker-concurrency). */
  readonly workerConcurrency: number;
  readonly server: BenchServer;
  readonly hub: BenchHub;
  /** A small pool on the hub's database, for counting and (queue stats only) seeding. */
  readonly hubDb: pg.Pool;
  readonly hubDatabaseUrl: string;
  /** Names of the hub's GraphQL queries and mutations (which features are merged). */
  readonly operations: ReadonlySet<string>;
  /** Registers something to stop at the end, even when the run fails. */
  defer(cleanup: () => Promise<void>): void;
  progress(message: string): void;
  /** A correctness check: any failure makes the run exit non-zero, in smoke and full mode. */
  check(name: string, ok: boolean, detail: string): void;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

export class MissingFeatureError extends Error {
  constructor(readonly feature: string, missing: string[]) {
    super(`${feature} is not in this hub yet (missing ${missing.join(", ")})`);
    this.name = "MissingFeatureError";
  }
}

export function requireOperations(context: BenchContext, feature: string, names: string[]): void {
  const missing = names.filter((name) => !context.operations.has(name));
  if (missing.length > 0) throw new MissingFeatureError(feature, missing);
}
