import { Migration } from '@mikro-orm/migrations';

export class Migration20261127025415_webhooks extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "delivery_count" ("id" bigserial primary key, "endpoint_id" uuid not null, "state" varchar(16) not null, "due_minute" timestamptz not null, "delta" bigint not null);`);

    this.addSql(`create table "webhook_endpoint" ("id" uuid not null, "created_at" timestamptz not null, "url" text not null, "description" varchar(500) null, "format" text check ("format" in ('STANDARD_WEBHOOK', 'POSTBACK_URL')) not null default 'STANDARD_WEBHOOK', "event_types" text[] not null default '{}', "owner_operator_id" uuid null, "owner_affiliate_id" uuid null, "rate_limit_per_second" int null, "enabled" boolean not null default true, "disabled_at" timestamptz null, "disabled_reason" text check ("disabled_reason" in ('MANUAL', 'GONE', 'FAILING')) null, "secret_sealed" text not null, "secret_created_at" timestamptz not null, "previous_secret_sealed" text null, "previous_secret_expires_at" timestamptz null, "failing_since" timestamptz null, "rate_next_slot_at" timestamptz null, "updated_at" timestamptz not null, constraint "webhook_endpoint_pkey" primary key ("id"));`);
    this.addSql(`create index "webhook_endpoint_owner_affiliate_idx" on "webhook_endpoint" ("owner_affiliate_id");`);
    this.addSql(`create index "webhook_endpoint_owner_operator_idx" on "webhook_endpoint" ("owner_operator_id");`);

    this.addSql(`create table "delivery_replay_batch" ("id" uuid not null, "created_at" timestamptz not null, "endpoint_id" uuid not null, "since" timestamptz not null, "until" timestamptz not null, "state" text check ("state" in ('QUEUED', 'RUNNING', 'DONE', 'FAILED')) not null default 'QUEUED', "matched" int null, "replayed" int not null default 0, "finished_at" timestamptz null, "error" text null, "requested_by_key_id" uuid null, constraint "delivery_replay_batch_pkey" primary key ("id"));`);

    this.addSql(`create table "delivery" ("id" uuid not null, "created_at" timestamptz not null, "event_id" uuid not null, "endpoint_id" uuid not null, "state" text check ("state" in ('pending', 'failed', 'succeeded', 'dead')) not null default 'pending', "series" int not null default 0, "replay" boolean not null default false, "attempt_count" int not null default 0, "queued_at" timestamptz not null, "next_attempt_at" timestamptz null, "lease_token" uuid null, "lease_expires_at" timestamptz null, "leased_at" timestamptz null, "rate_slot_at" timestamptz null, "last_attempt_at" timestamptz null, "last_http_status" int null, "last_error_class" varchar(16) null, "succeeded_at" timestamptz null, "dead_at" timestamptz null, constraint "delivery_pkey" primary key ("id"));`);
    this.addSql(`create index "delivery_replayable_idx" on "delivery" ("endpoint_id", "created_at") where state in ('failed', 'dead');`);
    this.addSql(`create index "delivery_leased_idx" on "delivery" ("lease_expires_at") where lease_token is not null;`);
    this.addSql(`create index "delivery_unfinished_queued_idx" on "delivery" ("endpoint_id", "queued_at") where state in ('pending', 'failed');`);
    this.addSql(`create index "delivery_unfinished_next_idx" on "delivery" ("next_attempt_at", "endpoint_id") where state in ('pending', 'failed');`);
    this.addSql(`create index "delivery_endpoint_id_idx" on "delivery" ("endpoint_id", "id");`);
    this.addSql(`alter table "delivery" add constraint "delivery_event_endpoint_unique" unique ("event_id", "endpoint_id");`);

    this.addSql(`create table "delivery_attempt" ("id" uuid not null, "created_at" timestamptz not null, "delivery_id" uuid not null, "endpoint_id" uuid not null, "event_id" uuid not null, "series" int not null, "attempt_number" int not null, "replay" boolean not null, "started_at" timestamptz not null, "duration_ms" int not null, "succeeded" boolean not null, "http_status" int null, "response_headers" jsonb null, "response_body" text null, "error_class" varchar(16) null, "error_message" text null, "next_attempt_at" timestamptz null, "worker" varchar(200) not null, constraint "delivery_attempt_pkey" primary key ("id"));`);
    this.addSql(`create index "delivery_attempt_endpoint_started_idx" on "delivery_attempt" ("endpoint_id", "started_at");`);
    this.addSql(`alter table "delivery_attempt" add constraint "delivery_attempt_number_unique" unique ("delivery_id", "series", "attempt_number");`);

    this.addSql(`create table "alert" ("id" uuid not null, "created_at" timestamptz not null, "kind" text check ("kind" in ('QUEUE_DEPTH', 'DELIVERIES_DEAD', 'ENDPOINT_DISABLED', 'SECRET_ROTATION_DUE')) not null, "severity" text check ("severity" in ('WARNING', 'CRITICAL')) not null, "key" varchar(200) not null, "message" text not null, "details" jsonb not null default '{}', "endpoint_id" uuid null, "operator_id" uuid null, "affiliate_id" uuid null, "resolved_at" timestamptz null, "acknowledged_at" timestamptz null, "acknowledged_by_key_id" uuid null, constraint "alert_pkey" primary key ("id"));`);
    this.addSql(`create index "alert_created_idx" on "alert" ("created_at");`);
    this.addSql(`create unique index "alert_active_key_unique" on "alert" ("key") where resolved_at is null;`);

    this.addSql(`alter table "webhook_endpoint" add constraint "webhook_endpoint_owner_operator_id_foreign" foreign key ("owner_operator_id") references "operator" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "webhook_endpoint" add constraint "webhook_endpoint_owner_affiliate_id_foreign" foreign key ("owner_affiliate_id") references "affiliate" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "delivery_replay_batch" add constraint "delivery_replay_batch_endpoint_id_foreign" foreign key ("endpoint_id") references "webhook_endpoint" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "delivery" add constraint "delivery_event_id_foreign" foreign key ("event_id") references "event" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "delivery" add constraint "delivery_endpoint_id_foreign" foreign key ("endpoint_id") references "webhook_endpoint" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "delivery_attempt" add constraint "delivery_attempt_delivery_id_foreign" foreign key ("delivery_id") references "delivery" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "alert" add constraint "alert_endpoint_id_foreign" foreign key ("endpoint_id") references "webhook_endpoint" ("id") on update cascade on delete set null;`);

    // Below: what MikroORM cannot express (functions and triggers are outside its schema diff).

    // UUIDv7 in SQL for set-based inserts (publishing to many endpoints, replays), the same
    // layout as src/common/ids.ts: 48-bit milliseconds, version 7, RFC 4122 variant.
    this.addSql(`create or replace function hub_uuid_v7() returns uuid language sql volatile parallel safe as $$
      select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6),
        52, 1), 53, 1), 'hex')::uuid
    $$;`);

    // Queue counters (see src/webhooks/delivery-count.entity.ts): every change to deliveries
    // adds delta rows per (endpoint, state, minute of next attempt) it moved, so any writer
    // (the engine, a replay, a bulk seed) keeps them exact. Succeeded deliveries are not
    // counted: nothing needs their number cheaply. Inserts and deletes are counted per
    // statement (a bulk seed adds a handful of rows); updates per row, behind a WHEN that
    // Postgres evaluates without calling the function, so the engine's lease updates
    // (which move nothing) cost nothing.
    this.addSql(`create or replace function delivery_due_minute(state text, next_attempt_at timestamptz) returns timestamptz
      language sql immutable parallel safe as $$
      select case when state in ('pending', 'failed') and next_attempt_at is not null
        then date_bin('1 minute', next_attempt_at, timestamptz '1970-01-01 00:00:00+00')
        else timestamptz '-infinity' end
    $$;`);
    this.addSql(`create or replace function delivery_count_track() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        insert into delivery_count (endpoint_id, state, due_minute, delta)
        select endpoint_id, state, delivery_due_minute(state, next_attempt_at), count(*)
        from new_rows where state <> 'succeeded' group by 1, 2, 3;
      else
        insert into delivery_count (endpoint_id, state, due_minute, delta)
        select endpoint_id, state, delivery_due_minute(state, next_attempt_at), -count(*)
        from old_rows where state <> 'succeeded' group by 1, 2, 3;
      end if;
      return null;
    end
    $$;`);
    this.addSql(`create or replace function delivery_count_move() returns trigger language plpgsql as $$
    declare
      old_minute timestamptz := delivery_due_minute(old.state, old.next_attempt_at);
      new_minute timestamptz := delivery_due_minute(new.state, new.next_attempt_at);
    begin
      if old.endpoint_id = new.endpoint_id and old.state = new.state and old_minute = new_minute then
        return null;
      end if;
      if old.state <> 'succeeded' then
        insert into delivery_count (endpoint_id, state, due_minute, delta) values (old.endpoint_id, old.state, old_minute, -1);
      end if;
      if new.state <> 'succeeded' then
        insert into delivery_count (endpoint_id, state, due_minute, delta) values (new.endpoint_id, new.state, new_minute, 1);
      end if;
      return null;
    end
    $$;`);
    this.addSql(`create trigger delivery_count_insert after insert on "delivery"
      referencing new table as new_rows for each statement execute function delivery_count_track();`);
    this.addSql(`create trigger delivery_count_update after update of state, next_attempt_at, endpoint_id on "delivery"
      for each row when (old.state is distinct from new.state or old.next_attempt_at is distinct from new.next_attempt_at
        or old.endpoint_id is distinct from new.endpoint_id)
      execute function delivery_count_move();`);
    this.addSql(`create trigger delivery_count_delete after delete on "delivery"
      referencing old table as old_rows for each statement execute function delivery_count_track();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists delivery_count_insert on "delivery";`);
    this.addSql(`drop trigger if exists delivery_count_update on "delivery";`);
    this.addSql(`drop trigger if exists delivery_count_delete on "delivery";`);
    this.addSql(`drop function if exists delivery_count_track();`);
    this.addSql(`drop function if exists delivery_count_move();`);
    this.addSql(`drop function if exists delivery_due_minute(text, timestamptz);`);
    this.addSql(`drop function if exists hub_uuid_v7();`);

    this.addSql(`alter table "delivery_replay_batch" drop constraint "delivery_replay_batch_endpoint_id_foreign";`);

    this.addSql(`alter table "delivery" drop constraint "delivery_endpoint_id_foreign";`);

    this.addSql(`alter table "alert" drop constraint "alert_endpoint_id_foreign";`);

    this.addSql(`alter table "delivery_attempt" drop constraint "delivery_attempt_delivery_id_foreign";`);

    this.addSql(`drop table if exists "delivery_count" cascade;`);

    this.addSql(`drop table if exists "webhook_endpoint" cascade;`);

    this.addSql(`drop table if exists "delivery_replay_batch" cascade;`);

    this.addSql(`drop table if exists "delivery" cascade;`);

    this.addSql(`drop table if exists "delivery_attempt" cascade;`);

    this.addSql(`drop table if exists "alert" cascade;`);
  }

}
