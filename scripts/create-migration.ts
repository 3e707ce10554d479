import "reflect-metadata";
import path from "node:path";
import pg from "pg";
import { createLogger } from "../src/common/logger";
import { loadConfig } from "../src/config";
import { openOrm } from "../src/db/orm";
import { createPool, migrate, provideDatabase } from "../src/db/database";
import { entitiesOf } from "../src/feature";
import { FEATURES } from "../src/features";

/**
 * Writes the next migration: applies the existing ones to a scratch database, then
 * diffs the entities against it. `npm run migration:create` (uses DATABASE_URL's
 * server, or the embedded one), then add the new class to migrations/index.ts.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger("warn");
  const database = await provideDatabase(config, log);
  const scratchName = `hub_migration_${process.pid}`;
  const scratchUrl = new URL(database.url);
  scratchUrl.pathname = `/${scratchName}`;
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  await admin.query(`create database ${scratchName}`);
  try {
    const orm = await openOrm(scratchUrl.toString(), 2, entitiesOf(FEATURES));
    const pool = createPool(scratchUrl.toString(), 2, log, "migration");
    try {
      await migrate(orm, pool, log);
      const migrator = orm.getMigrator();
      const result = await migrator.createMigration(path.resolve("migrations"), false, false, process.argv[2]);
      if (result.diff.up.length === 0) {
        process.stdout.write("The entities match the migrations: nothing to write.\n");
      } else {
        process.stdout.write(`Wrote migrations/${result.fileName}; add it to migrations/index.ts.\n`);
      }
    } finally {
      await orm.close(true);
      await pool.end();
    }
  } finally {
    await admin.query(`drop database if exists ${scratchName} with (force)`);
    await admin.end();
    await database.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
