import { Migration } from '@mikro-orm/migrations';

export class Migration20261127023318_init extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create type "api_key_role" as enum ('ADMIN', 'OPERATOR', 'AFFILIATE');`);
    this.addSql(`create table "api_key" ("id" uuid not null, "created_at" timestamptz not null, "name" varchar(200) not null, "role" "api_key_role" not null, "operator_id" uuid null, "affiliate_id" uuid null, "prefix" varchar(16) not null, "key_hash" varchar(64) not null, "allowed_ips" text[] not null default '{}', "rate_limit_per_minute" int null, "last_used_at" timestamptz null, "revoked_at" timestamptz null, constraint "api_key_pkey" primary key ("id"));`);
    this.addSql(`alter table "api_key" add constraint "api_key_key_hash_unique" unique ("key_hash");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "api_key" cascade;`);

    this.addSql(`drop type "api_key_role";`);
  }

}
