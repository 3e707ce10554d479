import { Migration } from '@mikro-orm/migrations';

/**
 * Per-endpoint in-flight limits (src/webhooks/in-flight-limit.ts, delivery.statements.ts):
 * a lease takes one of its endpoint's slot numbers, and the unique index makes two live
 * leases on one slot impossible, across every worker process. Leases taken before this
 * migration have no slot (nulls never collide); they still count toward the limit until
 * they end. A due delivery that finds no free slot is parked (waiting_for_slot_since) and
 * woken in order when a slot frees; the ready index lets parking skip the parked ones.
 */
export class Migration20261203203228_in_flight_limit extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "webhook_endpoint" add column "max_in_flight" int null;`);

    this.addSql(`alter table "delivery" add column "lease_slot" smallint null, add column "waiting_for_slot_since" timestamptz null;`);
    this.addSql(`create index "delivery_ready_idx" on "delivery" ("endpoint_id", "next_attempt_at") where state in ('pending', 'failed') and lease_token is null and waiting_for_slot_since is null;`);
    this.addSql(`create index "delivery_waiting_for_slot_idx" on "delivery" ("endpoint_id", "next_attempt_at") where waiting_for_slot_since is not null;`);
    this.addSql(`create unique index "delivery_endpoint_lease_slot_unique" on "delivery" ("endpoint_id", "lease_slot") where lease_token is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "delivery_ready_idx";`);
    this.addSql(`drop index "delivery_waiting_for_slot_idx";`);
    this.addSql(`drop index "delivery_endpoint_lease_slot_unique";`);
    this.addSql(`alter table "delivery" drop column "lease_slot", drop column "waiting_for_slot_since";`);

    this.addSql(`alter table "webhook_endpoint" drop column "max_in_flight";`);
  }

}
