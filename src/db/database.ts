import pg from "pg";
import type { MikroORM } from "@mikro-orm/postgresql";
import { runMigrations as runWorkerMigrations } from "graphile-worker";
import type { HubConfig } from "../config";
import type { Logger } from "../common/logger";
import { startEmbeddedPostgres } from "./embedded-postgres";

export interface DatabaseHandle {
  url: string;
  embedded: boolean;
  dataDir: string | undefined;
  stop(): Promise<void>;
}

/** Uses DATABASE_URL when given; otherwise starts the embedded Postgres under DATA_DIR. */
export async function provideDatabase(config: HubConfig, log: Logger): Promise<DatabaseHandle> {
  if (config.databaseUrl) {
    return { url: config.databaseUrl, embedded: false, dataDir: undefined, stop: async () => {} };
  }
  const embedded = await startEmbeddedPostgres(config.dataDir, log);
  await ensureDatabaseExists(embedded.url);
  return { url: embedded.url, embedded: true, dataDir: embedded.dataDir, stop: embedded.stop };
}

export async function ensureDatabaseExists(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [name]);
    if (!rowCount) await client.query(`create database ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

const CONNECT_ATTEMPTS = 15;

/** Postgres is often still starting when the hub starts (containers, reboots): wait a bounded time. */
export async function waitForDatabase(url: string, log: Logger): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.query("select 1");
      return;
    } catch (error) {
      if (attempt >= CONNECT_ATTEMPTS) throw new Error(`Database unreachable after ${attempt} attempts`, { cause: error });
      log.warn({ attempt, err: error }, "database not reachable yet, retrying");
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * attempt, 2_000)));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/** Any constant works; it only has to be the same in every hub process. */
const MIGRATION_LOCK_KEY = 7_426_001;

/**
 * Runs the hub's and graphile-worker's migrations under one advisory lock, so several
 * processes starting together against one database migrate once, in order.
 */
export async function migrate(orm: MikroORM, pool: pg.Pool, log: Logger, underLock?: () => Promise<void>): Promise<void> {
  const lockClient = await pool.connect();
  try {
    await lockClient.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    const applied = await orm.getMigrator().up();
    if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, "applied migrations");
    await runWorkerMigrations({ pgPool: pool });
    await underLock?.();
  } finally {
    await lockClient.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
    lockClient.release();
  }
}

export async function pendingMigrations(orm: MikroORM): Promise<number> {
  return (await orm.getMigrator().getPendingMigrations()).length;
}

export function createPool(url: string, max: number, log: Logger, name: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: `affiliate-hub:${name}` } as pg.PoolConfig);
  // An idle client whose server connection drops emits `error` on the pool; without a
  // listener Node treats it as unhandled and the process dies.
  // pg attaches the whole client to these errors: log the message and code only.
  const describe = (error: Error) => ({ pool: name, error: error.message, code: (error as { code?: string }).code });
  pool.on("error", (error) => log.warn(describe(error), "idle database connection lost"));
  pool.on("connect", (client) => client.on("error", (error) => log.warn(describe(error), "database connection lost")));
  return pool;
}
