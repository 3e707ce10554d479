import { Migration } from '@mikro-orm/migrations';

export class Migration20261127023739_event_outbox extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "event" ("id" uuid not null, "created_at" timestamptz not null, "type" varchar(100) not null, "payload" jsonb not null, "operator_id" uuid null, "affiliate_id" uuid null, constraint "event_pkey" primary key ("id"));`);
    this.addSql(`create index "event_operator_created_idx" on "event" ("operator_id", "created_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "event" cascade;`);
  }

}
