import { inspect } from "node:util";
import { MikroORM, defineConfig, type Options } from "@mikro-orm/postgresql";
import type { EntityClass } from "@mikro-orm/core";
import { Migrator } from "@mikro-orm/migrations";
import { MIGRATIONS } from "../../migrations";
import type { Logger } from "../common/logger";

export const MIGRATIONS_TABLE = "mikro_orm_migrations";

export function ormOptions(databaseUrl: string, poolSize: number, entities: readonly EntityClass<unknown>[], log?: Logger): Options {
  return defineConfig({
    clientUrl: databaseUrl,
    entities: [...entities],
    extensions: [Migrator],
    pool: { min: 0, max: poolSize },
    allowGlobalContext: false,
    forceUtcTimezone: true,
    ignoreUndefinedInQuery: true,
    discovery: { warnWhenNoEntities: false },
    schemaGenerator: { ignoreSchema: ["graphile_worker"] },
    migrations: {
      tableName: MIGRATIONS_TABLE,
      path: "migrations",
      pathTs: "migrations",
      migrationsList: MIGRATIONS,
      transactional: true,
      allOrNothing: true,
      emit: "ts",
      snapshot: false,
    },
    logger: (message) => log?.debug({ component: "orm" }, message),
    ...(log ? { driverOptions: { log: knexLog(log) } } : {}),
  });
}

/**
 * knex reports through console.log by default (e.g. "Connection Error: ..." for each pooled
 * connection the database dropped), which would put bare text between the JSON log lines.
 */
function knexLog(log: Logger) {
  const orm = log.child({ component: "orm" });
  const text = (message: unknown) => (typeof message === "string" ? message : inspect(message, { depth: 3 }));
  return {
    warn: (message: unknown) => orm.warn({ detail: text(message) }, "database driver warning"),
    error: (message: unknown) => orm.error({ detail: text(message) }, "database driver error"),
    deprecate: (message: unknown) => orm.debug({ detail: text(message) }, "database driver deprecation"),
    debug: (message: unknown) => orm.debug({ detail: text(message) }, "database driver debug"),
  };
}

export async function openOrm(databaseUrl: string, poolSize: number, entities: readonly EntityClass<unknown>[], log?: Logger): Promise<MikroORM> {
  return MikroORM.init(ormOptions(databaseUrl, poolSize, entities, log));
}
