import { Migration } from '@mikro-orm/migrations';

/**
 * The producers of two live feeds, as triggers so that every writer (the delivery engine,
 * the lease sweeper, the conversion ingest, any future one) announces in its own
 * transaction, on commit only, without knowing about the live layer:
 *
 * - `delivery.attempted` for each logged attempt, tenant = the endpoint's owner. Its own
 *   function because the owner lives on webhook_endpoint, not on the attempt row.
 * - `conversion.recorded` for each conversion outbox event (recorded or status change):
 *   ids only; the subscription loads the event and its conversion.
 *
 * Row level, one small NOTIFY per row: the ingest writes one event row per statement, so a
 * statement-level trigger would not send fewer.
 */
export class Migration20261127031000_live_feeds extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create function hub_delivery_attempt_live() returns trigger language plpgsql as $$
begin
  perform pg_notify('affiliate_hub_live', jsonb_build_object('topic', 'delivery.attempted', 'payload', jsonb_build_object(
    'attemptId', new.id, 'endpointId', new.endpoint_id, 'operatorId', e.owner_operator_id, 'affiliateId', e.owner_affiliate_id))::text)
  from webhook_endpoint e where e.id = new.endpoint_id;
  return null;
end
$$;`);
    this.addSql(`create trigger delivery_attempt_live after insert on "delivery_attempt" for each row execute function hub_delivery_attempt_live();`);
    this.addSql(`create trigger event_live after insert on "event" for each row when (new.type in ('conversion.recorded', 'conversion.status_changed')) execute function hub_live_notify('conversion.recorded', 'eventId:id', 'type', 'operatorId:operator_id', 'affiliateId:affiliate_id');`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists event_live on "event";`);
    this.addSql(`drop trigger if exists delivery_attempt_live on "delivery_attempt";`);
    this.addSql(`drop function if exists hub_delivery_attempt_live();`);
  }

}
