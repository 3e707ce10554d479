import { Migration } from '@mikro-orm/migrations';

/**
 * Live events from SQL: hub_live_notify() is a trigger function that sends a live message
 * on the channel every hub process LISTENs on (src/live/topics.ts LIVE_CHANNEL), in the
 * same shape as notifyLive(): {"topic": TG_ARGV[0], "payload": {...}}. Further arguments
 * pick row columns into the payload as `payloadKey:column` (or just `column`); at
 * statement level the payload is {}. NOTIFY is transactional: sent on commit only.
 *
 * First use: revoking (or deleting) an API key ends its open WebSocket connections in
 * every api process.
 */
export class Migration20261127025601_live_notify extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create function hub_live_notify() returns trigger language plpgsql as $$
declare
  body jsonb := '{}'::jsonb;
  source jsonb;
  spec text;
  i int;
begin
  if TG_LEVEL = 'ROW' then
    source := to_jsonb(case when TG_OP = 'DELETE' then OLD else NEW end);
    for i in 1 .. TG_NARGS - 1 loop
      spec := TG_ARGV[i];
      body := body || jsonb_build_object(split_part(spec, ':', 1), source -> coalesce(nullif(split_part(spec, ':', 2), ''), spec));
    end loop;
  end if;
  perform pg_notify('affiliate_hub_live', jsonb_build_object('topic', TG_ARGV[0], 'payload', body)::text);
  return null;
end
$$;`);
    this.addSql(`create trigger api_key_revoked_live after update of revoked_at on "api_key" for each row when (old.revoked_at is null and new.revoked_at is not null) execute function hub_live_notify('auth.api_key_revoked', 'apiKeyId:id');`);
    this.addSql(`create trigger api_key_deleted_live after delete on "api_key" for each row execute function hub_live_notify('auth.api_key_revoked', 'apiKeyId:id');`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists api_key_deleted_live on "api_key";`);
    this.addSql(`drop trigger if exists api_key_revoked_live on "api_key";`);
    this.addSql(`drop function if exists hub_live_notify();`);
  }

}
