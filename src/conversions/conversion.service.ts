import type { EntityManager } from "@mikro-orm/postgresql";
import { Counter, type Registry } from "prom-client";
import { ConflictError } from "../common/errors";
import { decimalText, Money } from "../common/decimal";
import { newId } from "../common/ids";
import { jsonbText } from "../common/json-text";
import type { RequestContext } from "../context";
import { asDate, namedSql, sqlRows } from "../db/sql";
import { publishEvent } from "../webhooks/publish";
import type { ConversionInput } from "./conversion-input";
import { canTransition, type ConversionSource, type ConversionStatus } from "./conversion-status";

export enum ConversionOutcome {
  ACCEPTED = "accepted",
  DUPLICATE = "duplicate",
  STATUS_CHANGED = "status_changed",
}

export interface ConversionSubmission {
  operatorId: string;
  input: ConversionInput;
  source: ConversionSource;
  apiKeyId: string | null;
  /** The request as received (unknown parameters included), minus credentials. */
  rawRequest: Record<string, unknown>;
}

export interface RecordedConversion {
  outcome: ConversionOutcome;
  conversionId: string;
  attributed: boolean;
  status: ConversionStatus;
  previousStatus: ConversionStatus | null;
}

/** A conversion row as the statements below return it (snake_case, numeric as text). */
interface ConversionRow {
  id: string;
  created_at: Date | string;
  operator_id: string;
  affiliate_id: string | null;
  click_id: string | null;
  attributed_click_public_id: string | null;
  customer_id: string | null;
  event: string;
  event_id: string | null;
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

/**
 * A conversion's identity: `(operator, event_id)` when given, else `(operator, click_id
 * or customer_id, event)`. Folded into one text column under one unique index; the
 * prefixes keep the forms (and click ids from customer ids) from ever colliding.
 */
export function identityKey(input: Pick<ConversionInput, "eventId" | "clickId" | "customerId" | "event">): string {
  if (input.eventId !== null) return `e:${input.eventId}`;
  if (input.clickId !== null) return `c:${input.event}:${input.clickId}`;
  return `u:${input.event}:${input.customerId!}`;
}

/*
 * New conversions in one statement: find the affiliate (through the click; failing that,
 * through the customer's earliest attributed conversion), insert unless the identity
 * exists (the unique index decides, also against concurrent inserts), and write the
 * first status-history row. No row back means the identity already existed.
 */
const INSERT_NEW = namedSql(`
  with by_click as (
    select k.id, k.affiliate_id, k.click_id, k.sub1, k.sub2, k.sub3, k.sub4, k.sub5
      from click k
     where k.operator_id = :operator_id and k.click_id = :click_id::text
  ),
  by_customer as (
    select v.affiliate_id, v.attributed_click_id, v.sub1, v.sub2, v.sub3, v.sub4, v.sub5
      from conversion v
     where v.operator_id = :operator_id and v.customer_id = :customer_id::text
       and v.customer_id is not null and v.affiliate_id is not null
     order by v.created_at, v.id
     limit 1
  ),
  inserted as (
    insert into conversion (id, created_at, updated_at, operator_id, affiliate_id, attributed_click_id, attribution,
                            click_id, customer_id, event, event_id, identity_key, amount, currency, status, occurred_at,
                            sub1, sub2, sub3, sub4, sub5, source, api_key_id, raw_request)
    select :id::uuid, :now::timestamptz, :now::timestamptz, :operator_id::uuid,
           coalesce(k.affiliate_id, u.affiliate_id),
           coalesce(k.id, u.attributed_click_id),
           (case when k.id is not null then 'click' when u.affiliate_id is not null then 'customer' end)::conversion_attribution,
           :click_id::text, :customer_id::text, :event::text, :event_id::text, :identity_key::text,
           :amount::numeric, :currency::text, :status::conversion_status, :occurred_at::timestamptz,
           coalesce(:sub1::text, k.sub1, u.sub1), coalesce(:sub2::text, k.sub2, u.sub2), coalesce(:sub3::text, k.sub3, u.sub3),
           coalesce(:sub4::text, k.sub4, u.sub4), coalesce(:sub5::text, k.sub5, u.sub5),
           :source::conversion_source, :api_key_id::uuid, :raw_request::jsonb
      from (select 1) as one
      left join by_click k on true
      left join by_customer u on k.id is null
    on conflict (operator_id, identity_key) do nothing
    returning *
  ),
  history as (
    insert into conversion_status_change (id, created_at, conversion_id, from_status, to_status, source, api_key_id)
    select :history_id::uuid, created_at, id, null, status, source, api_key_id from inserted
  )
  select n.*, ac.click_id as attributed_click_public_id
    from inserted n left join click ac on ac.id = n.attributed_click_id`);

const SELECT_BY_IDENTITY = namedSql(`
  select c.*, ac.click_id as attributed_click_public_id
    from conversion c left join click ac on ac.id = c.attributed_click_id
   where c.operator_id = :operator_id and c.identity_key = :identity_key`);

/** Only from the status we decided on: a concurrent change makes this update nothing, and we decide again. */
const CHANGE_STATUS = namedSql(`
  with updated as (
    update conversion set status = :to_status::conversion_status, status_changed_at = :now::timestamptz, updated_at = :now::timestamptz
     where id = :id and status = :from_status::conversion_status
    returning *
  ),
  history as (
    insert into conversion_status_change (id, created_at, conversion_id, from_status, to_status, source, api_key_id)
    select :history_id::uuid, :now::timestamptz, id, :from_status::conversion_status, :to_status::conversion_status,
           :source::conversion_source, :api_key_id::uuid
      from updated
  )
  select u.*, ac.click_id as attributed_click_public_id
    from updated u left join click ac on ac.id = u.attributed_click_id`);

/** A concurrent writer can make an attempt find nothing to act on (e.g. the row changed status); a few rounds settle it. */
const MAX_ROUNDS = 5;

/**
 * Records one conversion under the idempotency contract, in one transaction with its
 * outbound event: new → ACCEPTED (+ conversion.recorded); same identity, status and
 * amount → DUPLICATE (nothing written); allowed status change → STATUS_CHANGED
 * (+ history row, + conversion.status_changed); otherwise 409 INVALID_TRANSITION or
 * CONFLICTING_DUPLICATE. Every decision is taken by a unique index or a conditional
 * UPDATE, never by a read followed by a write.
 */
export async function recordConversion(ctx: RequestContext, submission: ConversionSubmission): Promise<RecordedConversion> {
  const result = await ctx.em.transactional((tx) => recordInTransaction(tx, submission));
  conversionCounter(ctx.hub.metrics).inc({ outcome: result.outcome, source: submission.source });
  return result;
}

async function recordInTransaction(tx: EntityManager, submission: ConversionSubmission): Promise<RecordedConversion> {
  const { input } = submission;
  const key = identityKey(input);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const now = new Date();
    const [inserted] = await sqlRows<ConversionRow>(tx, INSERT_NEW, {
      id: newId(),
      history_id: newId(),
      now,
      operator_id: submission.operatorId,
      click_id: input.clickId,
      customer_id: input.customerId,
      event: input.event,
      event_id: input.eventId,
      identity_key: key,
      amount: input.amount,
      currency: input.currency,
      status: input.status,
      occurred_at: input.occurredAt,
      sub1: input.subs[0],
      sub2: input.subs[1],
      sub3: input.subs[2],
      sub4: input.subs[3],
      sub5: input.subs[4],
      source: submission.source,
      api_key_id: submission.apiKeyId,
      raw_request: jsonbText(submission.rawRequest),
    });
    if (inserted) {
      await publishEvent(tx, {
        type: "conversion.recorded",
        data: conversionEventData(inserted, null),
        operatorId: inserted.operator_id,
        affiliateId: inserted.affiliate_id,
      });
      return outcomeOf(ConversionOutcome.ACCEPTED, inserted, null);
    }

    // The identity exists (ON CONFLICT waited for any concurrent inserter to commit, so this read sees it).
    const [existing] = await sqlRows<ConversionRow>(tx, SELECT_BY_IDENTITY, { operator_id: submission.operatorId, identity_key: key });
    if (!existing) continue;
    assertSameMoney(existing, input);
    if (existing.status === input.status) return outcomeOf(ConversionOutcome.DUPLICATE, existing, null);
    if (!canTransition(existing.status, input.status)) {
      throw new ConflictError(
        `Conversion ${existing.id} is ${existing.status}; it cannot become ${input.status}`,
        "INVALID_TRANSITION",
        { conversionId: existing.id, currentStatus: existing.status },
      );
    }
    const [changed] = await sqlRows<ConversionRow>(tx, CHANGE_STATUS, {
      id: existing.id,
      history_id: newId(),
      now,
      from_status: existing.status,
      to_status: input.status,
      source: submission.source,
      api_key_id: submission.apiKeyId,
    });
    if (!changed) continue;
    await publishEvent(tx, {
      type: "conversion.status_changed",
      data: conversionEventData(changed, existing.status),
      operatorId: changed.operator_id,
      affiliateId: changed.affiliate_id,
    });
    return outcomeOf(ConversionOutcome.STATUS_CHANGED, changed, existing.status);
  }
  throw new ConflictError("The conversion kept changing concurrently; retry", "CONCURRENT_UPDATE");
}

/** A repeat that names an amount (or currency) must name the same one; one that names none is a status update. */
function assertSameMoney(existing: ConversionRow, input: ConversionInput): void {
  const amountDiffers = input.amount !== null && (existing.amount === null || !new Money(existing.amount).eq(input.amount));
  const currencyDiffers = input.currency !== null && existing.currency !== null && existing.currency !== input.currency;
  if (amountDiffers || currencyDiffers) {
    throw new ConflictError(
      `Conversion ${existing.id} was recorded with amount ${existing.amount === null ? "none" : decimalText(existing.amount)} ${existing.currency ?? ""}`.trimEnd() +
        "; the same identity cannot carry a different amount",
      "CONFLICTING_DUPLICATE",
      { conversionId: existing.id },
    );
  }
}

function outcomeOf(outcome: ConversionOutcome, row: ConversionRow, previousStatus: ConversionStatus | null): RecordedConversion {
  return { outcome, conversionId: row.id, attributed: row.affiliate_id !== null, status: row.status, previousStatus };
}

/**
 * The outbound events' `data` (the delivery engine's postback-URL macros read these
 * names): previousStatus only on conversion.status_changed; clickId is the click the
 * conversion came with or, for one attributed through its customer, that customer's click.
 */
export function conversionEventData(row: ConversionRow, previousStatus: ConversionStatus | null): Record<string, unknown> {
  return {
    conversionId: row.id,
    operatorId: row.operator_id,
    affiliateId: row.affiliate_id,
    clickId: row.click_id ?? row.attributed_click_public_id,
    customerId: row.customer_id,
    event: row.event,
    eventId: row.event_id,
    status: row.status,
    ...(previousStatus !== null ? { previousStatus } : {}),
    amount: row.amount === null ? null : decimalText(row.amount),
    currency: row.currency,
    occurredAt: asDate(row.occurred_at).toISOString(),
    attributed: row.affiliate_id !== null,
    sub1: row.sub1,
    sub2: row.sub2,
    sub3: row.sub3,
    sub4: row.sub4,
    sub5: row.sub5,
  };
}

const COUNTER_NAME = "hub_conversions_total";

function conversionCounter(registry: Registry): Counter<"outcome" | "source"> {
  const existing = registry.getSingleMetric(COUNTER_NAME) as Counter<"outcome" | "source"> | undefined;
  return existing ?? new Counter({ name: COUNTER_NAME, help: "Conversions recorded, by outcome and source", labelNames: ["outcome", "source"], registers: [registry] });
}
