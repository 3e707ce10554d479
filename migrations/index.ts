import type { MigrationObject } from "@mikro-orm/core";
import { Migration20261127023318_init } from "./Migration20261127023318_init";
import { Migration20261127023739_event_outbox } from "./Migration20261127023739_event_outbox";
import { Migration20261127023920_tenants } from "./Migration20261127023920_tenants";
import { Migration20261127024918_inbound } from "./Migration20261127024918_inbound";
import { Migration20261127025415_webhooks } from "./Migration20261127025415_webhooks";
import { Migration20261127025601_live_notify } from "./Migration20261127025601_live_notify";
import { Migration20261127031000_live_feeds } from "./Migration20261127031000_live_feeds";
import { Migration20261203203228_in_flight_limit } from "./Migration20261203203228_in_flight_limit";

/** Applied in this order; `npm run migration:create` writes a new file, then add it here. */
export const MIGRATIONS: MigrationObject[] = [
  { name: "Migration20261127023318_init", class: Migration20261127023318_init },
  { name: "Migration20261127023739_event_outbox", class: Migration20261127023739_event_outbox },
  { name: "Migration20261127023920_tenants", class: Migration20261127023920_tenants },
  { name: "Migration20261127024918_inbound", class: Migration20261127024918_inbound },
  { name: "Migration20261127025415_webhooks", class: Migration20261127025415_webhooks },
  { name: "Migration20261127025601_live_notify", class: Migration20261127025601_live_notify },
  { name: "Migration20261127031000_live_feeds", class: Migration20261127031000_live_feeds },
  { name: "Migration20261203203228_in_flight_limit", class: Migration20261203203228_in_flight_limit },
];
