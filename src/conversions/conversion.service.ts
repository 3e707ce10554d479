import type { EntityManager, Knex } from "@mikro-orm/postgresql";
import type pg from "pg";
import { Counter, type Registry } from "prom-client";
import { asError, ConflictError, HubError, toHubError } from "../common/errors";
import { decimalText, Money } from "../common/decimal";
import { newId } from "../common/ids";
import { jsonbText } from "../common/json-text";
import type { RequestContext } from "../context";
import { asDate } from "../db/sql";
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

/** Per submission: what happened, or the error it earned (a HubError such as a 409, or an internal failure). */
export type ConversionResult = RecordedConversion | Error;

/** A conversion row as the statements below return it (snake_case, numeric and timestamps as text). */
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
 * Explicit columns, never `*`: these are prepared statements, and a column added by a
 * later migration would otherwise change their result type under running processes
 * ("cached plan must not change result type").
 */
const COLUMNS = `id, created_at, operator_id, affiliate_id, attributed_click_id, click_id, customer_id, event, event_id,
  identity_key, amount, currency, status, occurred_at, sub1, sub2, sub3, sub4, sub5, source, api_key_id`;
const columnsOf = (alias: string) => COLUMNS.split(",").map((column) => `${alias}.${column.trim()}`).join(", ");

/*
 * New conversions, any number in one statement: each row finds its affiliate (through
 * its click; failing that, through the customer's earliest attributed conversion), is
 * inserted unless its identity exists (the unique index decides, also against
 * concurrent inserts, and against an earlier row of the same statement), and gets its
 * first status-history row. Rows not returned already existed.
 */
const INSERT_NEW = {
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
           coalesce(k.affiliate_id, u.affiliate_id),
           coalesce(k.id, u.attributed_click_id),
           (case when k.id is not null then 'click' when u.affiliate_id is not null then 'customer' end)::conversion_attribution,
           i.click_id, i.customer_id, i.event, i.event_id, i.identity_key, i.amount, i.currency,
           i.status::conversion_status, i.occurred_at,
           coalesce(i.sub1, k.sub1, u.sub1), coalesce(i.sub2, k.sub2, u.sub2), coalesce(i.sub3, k.sub3, u.sub3),
           coalesce(i.sub4, k.sub4, u.sub4), coalesce(i.sub5, k.sub5, u.sub5),
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

const SELECT_BY_IDENTITY = {
  name: "conversion-select-by-identity",
  text: `
  select ${columnsOf("c")}, ac.click_id as attributed_click_public_id
    from conversion c left join click ac on ac.id = c.attributed_click_id
   where (c.operator_id, c.identity_key) in (select * from unnest($1::uuid[], $2::text[]))`,
};

/** Only from the status we decided on: a concurrent change makes this update nothing, and we decide again. */
const CHANGE_STATUS = {
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

/** A row changed concurrently between our read and our conditional update is read and decided again, this often at most. */
const MAX_ROUNDS = 5;

/**
 * Records one conversion under the idempotency contract, in one transaction with its
 * outbound event. Throws the 409 it earns.
 */
export async function recordConversion(ctx: RequestContext, submission: ConversionSubmission): Promise<RecordedConversion> {
  const [result] = await recordConversions(ctx.em, ctx.hub.metrics, [submission]);
  if (result instanceof Error) throw result;
  return result!;
}

/**
 * Records submissions in one transaction (a batch shares its BEGIN/COMMIT and its
 * INSERT), each under the idempotency contract:
 * - new → ACCEPTED, with its first status-history row and `conversion.recorded`;
 * - same identity, status and amount → DUPLICATE, nothing written;
 * - same identity, allowed status change → STATUS_CHANGED, with a history row and
 *   `conversion.status_changed`;
 * - otherwise 409 INVALID_TRANSITION or CONFLICTING_DUPLICATE (as that item's result).
 * Every decision is taken by the unique index or a conditional UPDATE, never by a read
 * followed by a write. Items of one batch behave as if sent one after another in their
 * order. If the batch's transaction fails as a whole (a deadlock, a lost connection),
 * each item is retried alone, so one bad item never fails its neighbours.
 */
export async function recordConversions(em: EntityManager, metrics: Registry, submissions: readonly ConversionSubmission[]): Promise<ConversionResult[]> {
  let results: ConversionResult[];
  try {
    results = await em.transactional((tx) => recordInTransaction(tx, submissions));
  } catch (error: unknown) {
    if (submissions.length === 1) throw error;
    results = [];
    for (const submission of submissions) {
      try {
        const [alone] = await em.transactional((tx) => recordInTransaction(tx, [submission]));
        results.push(alone!);
      } catch (itemError: unknown) {
        results.push(toHubError(itemError) ?? asError(itemError));
      }
    }
  }
  const counter = conversionCounter(metrics);
  results.forEach((result, index) => {
    const outcome = result instanceof HubError ? result.code : result instanceof Error ? "error" : result.outcome;
    counter.inc({ outcome, source: submissions[index]!.source });
  });
  return results;
}

/** The transaction's own connection: hand-written statements go straight to it, prepared once per connection. */
async function connectionOf(tx: EntityManager): Promise<pg.ClientBase> {
  const trx = tx.getTransactionContext<Knex.Transaction>();
  if (!trx) throw new Error("recordInTransaction needs a transaction");
  return (await trx.client.acquireConnection()) as pg.ClientBase;
}

async function recordInTransaction(tx: EntityManager, submissions: readonly ConversionSubmission[]): Promise<ConversionResult[]> {
  const connection = await connectionOf(tx);
  const now = new Date();
  const keys = submissions.map((submission) => identityKey(submission.input));
  // Identity order for the INSERT: concurrent batches then wait on each other's keys in
  // the same order, which cannot deadlock. (A stable sort keeps repeats in arrival order.)
  const order = submissions.map((_, index) => index).sort((a, b) => compareIdentity(submissions[a]!, keys[a]!, submissions[b]!, keys[b]!));
  const ids = submissions.map(() => newId());
  const column = <T>(pick: (submission: ConversionSubmission, index: number) => T): T[] => order.map((index) => pick(submissions[index]!, index));
  const { rows: inserted } = await connection.query<ConversionRow>({
    ...INSERT_NEW,
    values: [
      column((_, index) => ids[index]),
      column(() => newId()),
      column((s) => s.operatorId),
      column((s) => s.input.clickId),
      column((s) => s.input.customerId),
      column((s) => s.input.event),
      column((s) => s.input.eventId),
      column((_, index) => keys[index]),
      column((s) => s.input.amount),
      column((s) => s.input.currency),
      column((s) => s.input.status),
      column((s) => s.input.occurredAt),
      column((s) => s.input.subs[0]),
      column((s) => s.input.subs[1]),
      column((s) => s.input.subs[2]),
      column((s) => s.input.subs[3]),
      column((s) => s.input.subs[4]),
      column((s) => s.source),
      column((s) => s.apiKeyId),
      column((s) => jsonbText(s.rawRequest)),
      now,
    ],
  });

  const insertedById = new Map(inserted.map((row) => [row.id, row]));
  const results: Array<ConversionResult | undefined> = submissions.map((_, index) => {
    const row = insertedById.get(ids[index]!);
    return row ? outcomeOf(ConversionOutcome.ACCEPTED, row, null) : undefined;
  });

  // The rest met an existing identity (ON CONFLICT waited for any concurrent inserter to
  // commit, so this read sees it); decide each in identity order, then arrival order.
  const pending = order.filter((index) => results[index] === undefined);
  const current = new Map<string, ConversionRow>();
  if (pending.length > 0) {
    const { rows } = await connection.query<ConversionRow>({
      ...SELECT_BY_IDENTITY,
      values: [pending.map((index) => submissions[index]!.operatorId), pending.map((index) => keys[index]!)],
    });
    for (const row of rows) current.set(`${row.operator_id}|${row.identity_key}`, row);
  }
  const changes: Array<{ index: number; row: ConversionRow; previous: ConversionStatus }> = [];
  for (const index of pending) {
    const submission = submissions[index]!;
    const key = `${submission.operatorId}|${keys[index]!}`;
    const decided = await decideRepeat(connection, submission, current.get(key), now);
    if (decided instanceof HubError) {
      results[index] = decided;
    } else if (decided.change) {
      current.set(key, decided.row);
      changes.push({ index, row: decided.row, previous: decided.change });
      results[index] = outcomeOf(ConversionOutcome.STATUS_CHANGED, decided.row, decided.change);
    } else if (decided.inserted) {
      current.set(key, decided.row);
      insertedById.set(decided.row.id, decided.row);
      results[index] = outcomeOf(ConversionOutcome.ACCEPTED, decided.row, null);
    } else {
      results[index] = outcomeOf(ConversionOutcome.DUPLICATE, decided.row, null);
    }
  }

  // The outbox, in arrival order, in this same transaction.
  for (const [index, result] of results.entries()) {
    if (result instanceof Error || result === undefined) continue;
    if (result.outcome === ConversionOutcome.ACCEPTED) {
      const row = insertedById.get(result.conversionId)!;
      await publish(tx, "conversion.recorded", row, null);
    } else if (result.outcome === ConversionOutcome.STATUS_CHANGED) {
      const change = changes.find((candidate) => candidate.index === index)!;
      await publish(tx, "conversion.status_changed", change.row, change.previous);
    }
  }
  return results as ConversionResult[];
}

function compareIdentity(a: ConversionSubmission, keyA: string, b: ConversionSubmission, keyB: string): number {
  if (a.operatorId !== b.operatorId) return a.operatorId < b.operatorId ? -1 : 1;
  return keyA < keyB ? -1 : keyA > keyB ? 1 : 0;
}

type RepeatDecision = HubError | { row: ConversionRow; change: ConversionStatus | null; inserted: boolean };

/** A submission whose identity exists: duplicate, status change (conditional), or 409. */
async function decideRepeat(connection: pg.ClientBase, submission: ConversionSubmission, known: ConversionRow | undefined, now: Date): Promise<RepeatDecision> {
  const { input } = submission;
  let existing = known;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (!existing) {
      // Gone since the INSERT met it (not something the hub does): try the insert again.
      const [again] = await recordAlone(connection, submission, now);
      if (again) return { row: again, change: null, inserted: true };
      existing = await reread(connection, submission);
      continue;
    }
    const moneyConflict = sameMoneyConflict(existing, input);
    if (moneyConflict) return moneyConflict;
    if (existing.status === input.status) return { row: existing, change: null, inserted: false };
    if (!canTransition(existing.status, input.status)) {
      return new ConflictError(`Conversion ${existing.id} is ${existing.status}; it cannot become ${input.status}`, "INVALID_TRANSITION", {
        conversionId: existing.id,
        currentStatus: existing.status,
      });
    }
    const { rows } = await connection.query<ConversionRow>({
      ...CHANGE_STATUS,
      values: [existing.id, existing.status, input.status, now, newId(), submission.source, submission.apiKeyId],
    });
    if (rows[0]) return { row: rows[0], change: existing.status, inserted: false };
    existing = await reread(connection, submission);
  }
  return new ConflictError("The conversion kept changing concurrently; retry", "CONCURRENT_UPDATE");
}

async function recordAlone(connection: pg.ClientBase, submission: ConversionSubmission, now: Date): Promise<ConversionRow[]> {
  const { input } = submission;
  const { rows } = await connection.query<ConversionRow>({
    ...INSERT_NEW,
    values: [
      [newId()], [newId()], [submission.operatorId], [input.clickId], [input.customerId], [input.event], [input.eventId],
      [identityKey(input)], [input.amount], [input.currency], [input.status], [input.occurredAt], [input.subs[0]],
      [input.subs[1]], [input.subs[2]], [input.subs[3]], [input.subs[4]], [submission.source], [submission.apiKeyId],
      [jsonbText(submission.rawRequest)], now,
    ],
  });
  return rows;
}

async function reread(connection: pg.ClientBase, submission: ConversionSubmission): Promise<ConversionRow | undefined> {
  const { rows } = await connection.query<ConversionRow>({ ...SELECT_BY_IDENTITY, values: [[submission.operatorId], [identityKey(submission.input)]] });
  return rows[0];
}

/** A repeat that names an amount (or currency) must name the same one; one that names none is a status update. */
function sameMoneyConflict(existing: ConversionRow, input: ConversionInput): HubError | undefined {
  const amountDiffers = input.amount !== null && (existing.amount === null || !new Money(existing.amount).eq(input.amount));
  const currencyDiffers = input.currency !== null && existing.currency !== null && existing.currency !== input.currency;
  if (!amountDiffers && !currencyDiffers) return undefined;
  const recorded = existing.amount === null ? "no amount" : `amount ${decimalText(existing.amount)} ${existing.currency ?? ""}`.trimEnd();
  return new ConflictError(`Conversion ${existing.id} was recorded with ${recorded}; the same identity cannot carry a different amount`, "CONFLICTING_DUPLICATE", {
    conversionId: existing.id,
  });
}

function outcomeOf(outcome: ConversionOutcome, row: ConversionRow, previousStatus: ConversionStatus | null): RecordedConversion {
  return { outcome, conversionId: row.id, attributed: row.affiliate_id !== null, status: row.status, previousStatus };
}

async function publish(tx: EntityManager, type: "conversion.recorded" | "conversion.status_changed", row: ConversionRow, previousStatus: ConversionStatus | null): Promise<void> {
  await publishEvent(tx, { type, data: conversionEventData(row, previousStatus), operatorId: row.operator_id, affiliateId: row.affiliate_id });
  // Each publish flushes; a batch's earlier events need no change tracking, so keep the identity map small.
  tx.clear();
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
  return existing ?? new Counter({ name: COUNTER_NAME, help: "Conversion submissions by outcome (or error code) and source", labelNames: ["outcome", "source"], registers: [registry] });
}
