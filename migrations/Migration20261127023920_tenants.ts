import { Migration } from '@mikro-orm/migrations';

export class Migration20261127023920_tenants extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "affiliate" ("id" uuid not null, "created_at" timestamptz not null, "name" varchar(200) not null, "email" varchar(320) null, constraint "affiliate_pkey" primary key ("id"));`);

    this.addSql(`create table "operator" ("id" uuid not null, "created_at" timestamptz not null, "name" varchar(200) not null, "require_signature" boolean not null default true, constraint "operator_pkey" primary key ("id"));`);

    this.addSql(`alter table "api_key" add constraint "api_key_operator_id_foreign" foreign key ("operator_id") references "operator" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "api_key" add constraint "api_key_affiliate_id_foreign" foreign key ("affiliate_id") references "affiliate" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "api_key" drop constraint "api_key_affiliate_id_foreign";`);

    this.addSql(`alter table "api_key" drop constraint "api_key_operator_id_foreign";`);

    this.addSql(`drop table if exists "affiliate" cascade;`);

    this.addSql(`drop table if exists "operator" cascade;`);
  }

}
