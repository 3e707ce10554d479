import type { ConversionStatus } from "./conversion-status";

/** The ingest's hand-written statements (prepared per connection, by name). */

/** A conversion row as these statements return it (snake_case, numeric and timestamps as text). */
export interface ConversionRow {
  id: string;
  created_at: Date | string;
  operator_id: string;
  affiliate_id: string | null;
  click_id: string | null;
  attributed_click_public_id: string | null;
  customer_id: string | null;
  event: string;
  event_id: string | null;
  identity_key: string;
  amount: string | null;
  currency: string | null;
  status: ConversionStatus;
  occurred_at: Date | string;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
}

/*
 * Explicit columns, never `*`: these are prepared statements, and a column added by a
 * later migration would otherwise change their result type under running processes
 * ("cached plan must not change result type").
 */
const COLUMNS = `id, created_at, operator_id, affiliate_id, attributed_click_id, click_id, customer_id, event, event_id,
  identity_key, amount, currency, status, occurred_at, sub1, sub2, sub3, sub4, sub5, source, api_key_id`;
const columnsOf = (alias: string) => COLUMNS.split(",").map((column) => `${alias}.${column.trim()}`).join(", ");

/*
 * New conversions, any number in one statement: each row finds its affiliate (through
 * its click; failing that, through the customer's earliest attributed conversion, or an
 * earlier row of this statement for the same customer that carries a click), is
 * inserted unless its identity exists (the unique index decides, also against
 * concurrent inserts, and against an earlier row of the same statement), and gets its
 * first status-history row. Rows not returned already existed.
 */
export const INSERT_NEW = {
  name: "conversion-insert-new",
  text: `
  with input as (
    select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                         $9::numeric[], $10::text[], $11::text[], $12::timestamptz[], $13::text[], $14::text[], $15::text[],
                         $16::text[], $17::text[], $18::text[], $19::uuid[], $20::text[])
             with ordinality
      as i(id, history_id, operator_id, click_id, customer_id, event, event_id, identity_key, amount, currency, status,
           occurred_at, sub1, sub2, sub3, sub4, sub5, source, api_key_id, raw_request, position)
  ),
  inserted as (
    insert into conversion (id, created_at, updated_at, operator_id, affiliate_id, attributed_click_id, attribution,
                            click_id, customer_id, event, event_id, identity_key, amount, currency, status, occurred_at,
                            sub1, sub2, sub3, sub4, sub5, source, api_key_id, raw_request)
    select i.id, $21::timestamptz, $21::timestamptz, i.operator_id,
           coalesce(k.affiliate_id, u.affiliate_id, b.affiliate_id),
           coalesce(k.id, u.attributed_click_id, b.id),
           (case when k.id is not null then 'click' when coalesce(u.affiliate_id, b.affiliate_id) is not null then 'customer' end)::conversion_attribution,
           i.click_id, i.customer_id, i.event, i.event_id, i.identity_key, i.amount, i.currency,
           i.status::conversion_status, i.occurred_at,
           coalesce(i.sub1, k.sub1, u.sub1, b.sub1), coalesce(i.sub2, k.sub2, u.sub2, b.sub2), coalesce(i.sub3, k.sub3, u.sub3, b.sub3),
           coalesce(i.sub4, k.sub4, u.sub4, b.sub4), coalesce(i.sub5, k.sub5, u.sub5, b.sub5),
           i.source::conversion_source, i.api_key_id, i.raw_request::jsonb
      from input i
      left join lateral (
        select c.id, c.affiliate_id, c.sub1, c.sub2, c.sub3, c.sub4, c.sub5
          from click c
         where c.operator_id = i.operator_id and c.click_id = i.click_id
      ) k on true
      left join lateral (
        select v.affiliate_id, v.attributed_click_id, v.sub1, v.sub2, v.sub3, v.sub4, v.sub5
          from conversion v
         where k.id is null and v.operator_id = i.operator_id and v.customer_id = i.customer_id
           and v.customer_id is not null and v.affiliate_id is not null
         order by v.created_at, v.id
         limit 1
      ) u on true
      -- The statement cannot see its own inserts, so a customer's registration earlier in
      -- this same batch is found through the input itself and its click.
      left join lateral (
        select bk.id, bk.affiliate_id, bk.sub1, bk.sub2, bk.sub3, bk.sub4, bk.sub5
          from input e join click bk on bk.operator_id = e.operator_id and bk.click_id = e.click_id
         where k.id is null and u.affiliate_id is null and i.customer_id is not null
           and e.operator_id = i.operator_id and e.customer_id = i.customer_id and e.position < i.position
         order by e.position
         limit 1
      ) b on true
     order by i.position
    on conflict (operator_id, identity_key) do nothing
    returning ${COLUMNS}
  ),
  history as (
    insert into conversion_status_change (id, created_at, conversion_id, from_status, to_status, source, api_key_id)
    select i.history_id, n.created_at, n.id, null, n.status, n.source, n.api_key_id
      from inserted n join input i on i.id = n.id
  )
  select ${columnsOf("n")}, ac.click_id as attributed_click_public_id
    from inserted n left join click ac on ac.id = n.attributed_click_id`,
};

export const SELECT_BY_IDENTITY = {
  name: "conversion-select-by-identity",
  text: `
  select ${columnsOf("c")}, ac.click_id as attributed_click_public_id
    from conversion c left join click ac on ac.id = c.attributed_click_id
   where (c.operator_id, c.identity_key) in (select * from unnest($1::uuid[], $2::text[]))`,
};

/** Only from the status we decided on: a concurrent change makes this update nothing, and we decide again. */
export const CHANGE_STATUS = {
  name: "conversion-change-status",
  text: `
  with updated as (
    update conversion set status = $3::conversion_status, status_changed_at = $4, updated_at = $4
     where id = $1 and status = $2::conversion_status
    returning ${COLUMNS}
  ),
  history as (
    insert into conversion_status_change (id, created_at, conversion_id, from_status, to_status, source, api_key_id)
    select $5::uuid, $4, id, $2::conversion_status, $3::conversion_status, $6::conversion_source, $7::uuid from updated
  )
  select ${columnsOf("u")}, ac.click_id as attributed_click_public_id
    from updated u left join click ac on ac.id = u.attributed_click_id`,
};
