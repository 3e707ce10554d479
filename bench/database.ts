import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { createLogger } from "../src/common/logger";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../src/db/embedded-postgres";

/**
 * The Postgres server the bench runs on: DATABASE_URL's server when set (the bench makes
 * its own databases there and drops them at the end), else an embedded Postgres in a
 * temporary directory, stopped and removed at the end.
 */
export interface BenchServer {
  readonly embedded: boolean;
  readonly version: string;
  /** Creates an empty database and returns its URL. */
  createDatabase(purpose: string): Promise<string>;
  /** Drops the databases it created and stops an embedded server. */
  close(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const next = new URL(url);
  next.pathname = `/${database}`;
  return next.toString();
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function openBenchServer(databaseUrl: string | undefined): Promise<BenchServer> {
  let embedded: EmbeddedDatabase | undefined;
  let embeddedDir: string | undefined;
  let serverUrl = databaseUrl;
  if (!serverUrl) {
    embeddedDir = await mkdtemp(path.join(tmpdir(), "hub-bench-pg-"));
    // As root, Postgres runs as the postgres user, which must be able to enter the directory.
    await chmod(embeddedDir, 0o755);
    embedded = await startEmbeddedPostgres(embeddedDir, createLogger("warn"));
    serverUrl = embedded.url;
  }
  const adminUrl = withDatabase(serverUrl, "postgres");
  const version = await withClient(adminUrl, async (client) => (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!.v);
  const created: string[] = [];
  const run = `${process.pid}_${randomBytes(3).toString("hex")}`;

  return {
    embedded: embedded !== undefined,
    version,
    createDatabase: async (purpose) => {
      const name = `bench_${purpose}_${run}_${created.length + 1}`;
      await withClient(adminUrl, (client) => client.query(`create database ${pg.escapeIdentifier(name)}`));
      created.push(name);
      return withDatabase(serverUrl, name);
    },
    close: async () => {
      const errors: unknown[] = [];
      for (const name of created.splice(0)) {
        await withClient(adminUrl, (client) => client.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`)).catch(
          (error: unknown) => errors.push(error),
        );
      }
      await embedded?.stop().catch((error: unknown) => errors.push(error));
      if (embeddedDir) await rm(embeddedDir, { recursive: true, force: true });
      if (errors.length > 0) throw new AggregateError(errors, "bench database cleanup failed");
    },
  };
}
