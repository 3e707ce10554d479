import { Migration } from '@mikro-orm/migrations';

export class Migration20261127024918_inbound extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create type "conversion_attribution" as enum ('click', 'customer');`);
    this.addSql(`create type "conversion_status" as enum ('pending', 'approved', 'rejected', 'reversed');`);
    this.addSql(`create type "conversion_source" as enum ('postback', 'graphql', 'bulk', 'connector');`);
    this.addSql(`create table "campaign" ("id" uuid not null, "created_at" timestamptz not null, "operator_id" uuid not null, "name" varchar(200) not null, "landing_url" varchar(2048) not null, constraint "campaign_pkey" primary key ("id"));`);
    this.addSql(`create index "campaign_operator_created_idx" on "campaign" ("operator_id", "created_at");`);

    this.addSql(`create table "click" ("id" uuid not null, "created_at" timestamptz not null, "click_id" varchar(255) not null, "operator_id" uuid not null, "campaign_id" uuid not null, "affiliate_id" uuid not null, "sub1" varchar(255) null, "sub2" varchar(255) null, "sub3" varchar(255) null, "sub4" varchar(255) null, "sub5" varchar(255) null, "ip" varchar(64) null, "user_agent" varchar(512) null, constraint "click_pkey" primary key ("id"));`);
    this.addSql(`alter table "click" add constraint "click_operator_click_id_unique" unique ("operator_id", "click_id");`);

    this.addSql(`create table "conversion" ("id" uuid not null, "created_at" timestamptz not null, "operator_id" uuid not null, "affiliate_id" uuid null, "attributed_click_id" uuid null, "attribution" "conversion_attribution" null, "click_id" varchar(255) null, "customer_id" varchar(255) null, "event" varchar(64) not null, "event_id" varchar(255) null, "identity_key" text not null, "amount" numeric(20,8) null, "currency" varchar(3) null, "status" "conversion_status" not null, "occurred_at" timestamptz not null, "sub1" varchar(255) null, "sub2" varchar(255) null, "sub3" varchar(255) null, "sub4" varchar(255) null, "sub5" varchar(255) null, "source" "conversion_source" not null, "api_key_id" uuid null, "raw_request" jsonb not null, "status_changed_at" timestamptz null, "updated_at" timestamptz not null, constraint "conversion_pkey" primary key ("id"));`);
    this.addSql(`create index "conversion_customer_attribution_idx" on "conversion" ("operator_id", "customer_id", "created_at") where affiliate_id is not null and customer_id is not null;`);
    this.addSql(`create index "conversion_created_idx" on "conversion" ("created_at", "id");`);
    this.addSql(`create index "conversion_affiliate_created_idx" on "conversion" ("affiliate_id", "created_at", "id");`);
    this.addSql(`create index "conversion_operator_created_idx" on "conversion" ("operator_id", "created_at", "id");`);
    this.addSql(`alter table "conversion" add constraint "conversion_identity_unique" unique ("operator_id", "identity_key");`);

    this.addSql(`create table "conversion_status_change" ("id" uuid not null, "created_at" timestamptz not null, "conversion_id" uuid not null, "from_status" "conversion_status" null, "to_status" "conversion_status" not null, "source" "conversion_source" not null, "api_key_id" uuid null, constraint "conversion_status_change_pkey" primary key ("id"));`);
    this.addSql(`create index "conversion_status_change_conversion_idx" on "conversion_status_change" ("conversion_id", "created_at");`);

    this.addSql(`create table "rate_limit" ("key" varchar(255) not null, "points" int not null default 0, "expire" bigint null, constraint "rate_limit_pkey" primary key ("key"));`);

    this.addSql(`create table "request_log" ("id" uuid not null, "created_at" timestamptz not null, "request_id" varchar(128) not null, "api_key_id" uuid null, "operator_id" uuid null, "affiliate_id" uuid null, "client_ip" varchar(64) null, "method" varchar(10) not null, "route" varchar(200) not null, "operation" varchar(200) null, "status" smallint not null, "error_code" varchar(64) null, "duration_us" int not null, constraint "request_log_pkey" primary key ("id"));`);
    this.addSql(`create index "request_log_api_key_created_idx" on "request_log" ("api_key_id", "created_at", "id");`);
    this.addSql(`create index "request_log_operator_created_idx" on "request_log" ("operator_id", "created_at", "id");`);
    this.addSql(`create index "request_log_created_idx" on "request_log" ("created_at", "id");`);

    this.addSql(`alter table "campaign" add constraint "campaign_operator_id_foreign" foreign key ("operator_id") references "operator" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "click" add constraint "click_operator_id_foreign" foreign key ("operator_id") references "operator" ("id") on update cascade;`);
    this.addSql(`alter table "click" add constraint "click_campaign_id_foreign" foreign key ("campaign_id") references "campaign" ("id") on update cascade;`);
    this.addSql(`alter table "click" add constraint "click_affiliate_id_foreign" foreign key ("affiliate_id") references "affiliate" ("id") on update cascade;`);

    this.addSql(`alter table "conversion" add constraint "conversion_operator_id_foreign" foreign key ("operator_id") references "operator" ("id") on update cascade;`);
    this.addSql(`alter table "conversion" add constraint "conversion_affiliate_id_foreign" foreign key ("affiliate_id") references "affiliate" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "conversion" add constraint "conversion_attributed_click_id_foreign" foreign key ("attributed_click_id") references "click" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "conversion_status_change" add constraint "conversion_status_change_conversion_id_foreign" foreign key ("conversion_id") references "conversion" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "operator" add column "postback_secret" text null, add column "previous_postback_secret" text null, add column "previous_postback_secret_expires_at" timestamptz null, add column "postback_secret_rotated_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "click" drop constraint "click_campaign_id_foreign";`);

    this.addSql(`alter table "conversion" drop constraint "conversion_attributed_click_id_foreign";`);

    this.addSql(`alter table "conversion_status_change" drop constraint "conversion_status_change_conversion_id_foreign";`);

    this.addSql(`drop table if exists "campaign" cascade;`);

    this.addSql(`drop table if exists "click" cascade;`);

    this.addSql(`drop table if exists "conversion" cascade;`);

    this.addSql(`drop table if exists "conversion_status_change" cascade;`);

    this.addSql(`drop table if exists "rate_limit" cascade;`);

    this.addSql(`drop table if exists "request_log" cascade;`);

    this.addSql(`alter table "operator" drop column "postback_secret", drop column "previous_postback_secret", drop column "previous_postback_secret_expires_at", drop column "postback_secret_rotated_at";`);

    this.addSql(`drop type "conversion_attribution";`);
    this.addSql(`drop type "conversion_status";`);
    this.addSql(`drop type "conversion_source";`);
  }

}
