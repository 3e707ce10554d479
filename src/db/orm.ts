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
  });
}

export async function openOrm(databaseUrl: string, poolSize: number, entities: readonly EntityClass<unknown>[], log?: Logger): Promise<MikroORM> {
  return MikroORM.init(ormOptions(databaseUrl, poolSize, entities, log));
}
