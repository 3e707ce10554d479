import type { MigrationObject } from "@mikro-orm/core";
import { Migration20261127023318_init } from "./Migration20261127023318_init";

/** Applied in this order; `npm run migration:create` writes a new file, then add it here. */
export const MIGRATIONS: MigrationObject[] = [
  { name: "Migration20261127023318_init", class: Migration20261127023318_init },
];
