import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node" with { "resolution-mode": "import" };
import { createLogger } from "../../src/common/logger";
import { openOrm } from "../../src/db/orm";
import { createPool, migrate } from "../../src/db/database";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../src/db/embedded-postgres";
import { entitiesOf } from "../../src/feature";
import { FEATURES } from "../../src/features";

declare module "vitest" {
  export interface ProvidedContext {
    /** A URL of the Postgres server the tests use; its database part is irrelevant. */
    serverUrl: string;
    /** A migrated database every test file copies its own database from. */
    templateDatabase: string;
  }
}

function withDatabase(url: string, database: string): string {
  const next = new URL(url);
  next.pathname = `/${database}`;
  return next.toString();
}

/**
 * Once per run: pick the server (DATABASE_URL, else an embedded Postgres in a temp
 * dir), migrate one template database, and hand both to the test files.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = createLogger("warn");
  let embedded: EmbeddedDatabase | undefined;
  let embeddedDir: string | undefined;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    embeddedDir = await mkdtemp(path.join(tmpdir(), "hub-test-pg-"));
    // As root, Postgres runs as the postgres user, which must be able to enter the directory.
    await chmod(embeddedDir, 0o755);
    embedded = await startEmbeddedPostgres(embeddedDir, log);
    serverUrl = embedded.url;
  }
  const templateDatabase = `hub_template_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, "postgres") });
  await admin.connect();
  await admin.query(`create database ${templateDatabase}`);
  const templateUrl = withDatabase(serverUrl, templateDatabase);
  const orm = await openOrm(templateUrl, 2, entitiesOf(FEATURES));
  const pool = createPool(templateUrl, 2, log, "template");
  try {
    await migrate(orm, pool, log);
  } finally {
    await orm.close(true);
    await pool.end();
  }
  project.provide("serverUrl", serverUrl);
  project.provide("templateDatabase", templateDatabase);

  return async () => {
    await admin.query(`drop database if exists ${templateDatabase} with (force)`);
    await admin.end();
    await embedded?.stop();
    if (embeddedDir) await rm(embeddedDir, { recursive: true, force: true });
  };
}
