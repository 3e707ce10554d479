import { MikroORM, defineConfig, type Options } from "@mikro-orm/postgresql";
import { Migrator } from "@mikro-orm/migrations";
import { MIGRATIONS } from "../../migrations";
import { ENTITIES } from "./entities";
import type { Logger } from "../common/logger";

export const MIGRATIONS_TABLE = "mikro_orm_migrations";

export function ormOptions(databaseUrl: string, poolSize: number, log?: Logger): Options {
  return defineConfig({
    clientUrl: databaseUrl,
    entities: ENTITIES,
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

export async function openOrm(databaseUrl: string, poolSize: number, log?: Logger): Promise<MikroORM> {
  return MikroORM.init(ormOptions(databaseUrl, poolSize, log));
}
