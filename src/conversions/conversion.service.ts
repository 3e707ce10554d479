import type { EntityManager, Knex } from "@mikro-orm/postgresql";
import type pg from "pg";
import { Counter, type Registry } from "prom-client";
import { asError, ConflictError, HubError, toHubError } from "../common/errors";
import { decimalText, Money } from "../common/decimal";
import { newId } from "../common/ids";
import { jsonbText } from "../common/json-text";
import type { RequestContext } from "../context";
import { toDate } from "../db/sql";
import type { CallLog } from "../http/access";
import { insertRequestLog } from "../auth/usage-recorder";
import type { ConversionInput } from "./conversion-input";
import { canTransition, type ConversionSource, type ConversionStatus } from "./conversion-status";
import { CHANGE_STATUS, INSERT_NEW, SELECT_BY_IDENTITY, type ConversionRow } from "./conversion.statements";
import { publishEvent } from "../outbox/publish";
import type { EventTypeSpec } from "../common/event-type";
import { CONVERSION_RECORDED, CONVERSION_STATUS_CHANGED } from "./conversion-events";

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
  /** The API call's request-log entry: written in the same transaction when it gets a conversion (not a 409). */
  callLog?: CallLog;
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
    markLogged(submissions, results);
  } catch (error: unknown) {
    if (submissions.length === 1) throw error;
    results = [];
    for (const submission of submissions) {
      try {
        const alone = await em.transactional((tx) => recordInTransaction(tx, [submission]));
        markLogged([submission], alone);
        results.push(alone[0]!);
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

/** What one submission came to, and the outbound event it causes (if any). */
interface Decided {
  result: ConversionResult;
  event?: { type: EventTypeSpec; row: ConversionRow; previous: ConversionStatus | null };
}

/**
 * One batch in one transaction: new identities in one INSERT, repeats decided one by one,
 * then the outbox and the money calls' request-log lines, all committing together.
 */
async function recordInTransaction(tx: EntityManager, submissions: readonly ConversionSubmission[]): Promise<ConversionResult[]> {
  const connection = await connectionOf(tx);
  const now = new Date();
  const keys = submissions.map((submission) => identityKey(submission.input));
  // Identity order for the INSERT: concurrent batches then wait on each other's keys in
  // the same order, which cannot deadlock. (A stable sort keeps repeats in arrival order.)
  const order = submissions.map((_, index) => index).sort((a, b) => compareIdentity(submissions[a]!, keys[a]!, submissions[b]!, keys[b]!));
  const decided = await insertNew(connection, submissions, keys, order, now);
  // The rest met an existing identity (ON CONFLICT waited for any concurrent inserter to
  // commit, so the next read sees it); decided in identity order, then arrival order.
  await decideRepeats(connection, submissions, keys, order.filter((index) => decided[index] === undefined), decided, now);
  // The outbox, in arrival order, in this same transaction.
  for (const entry of decided) {
    if (entry?.event) await publish(tx, entry.event.type, entry.event.row, entry.event.previous);
  }
  const results = decided.map((entry) => entry!.result);
  await insertRequestLog(connection, loggedInTransaction(submissions, results).map((callLog) => callLog.entry()));
  return results;
}

/** INSERT … ON CONFLICT DO NOTHING for the whole batch: the accepted ones, by position; repeats stay undefined. */
async function insertNew(
  connection: pg.ClientBase,
  submissions: readonly ConversionSubmission[],
  keys: readonly string[],
  order: readonly number[],
  now: Date,
): Promise<Array<Decided | undefined>> {
  const ids = submissions.map(() => newId());
  const column = <T>(pick: (submission: ConversionSubmission, index: number) => T): T[] => order.map((index) => pick(submissions[index]!, index));
  const { rows } = await connection.query<ConversionRow>({
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
      ...[0, 1, 2, 3, 4].map((sub) => column((s) => s.input.subs[sub])),
      column((s) => s.source),
      column((s) => s.apiKeyId),
      column((s) => jsonbText(s.rawRequest)),
      now,
    ],
  });
  const insertedById = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => {
    const row = insertedById.get(id);
    return row ? accepted(row) : undefined;
  });
}

/** Repeats of known identities: duplicate, status change, conflict, or (if it vanished meanwhile) a late insert. */
async function decideRepeats(
  connection: pg.ClientBase,
  submissions: readonly ConversionSubmission[],
  keys: readonly string[],
  pending: readonly number[],
  decided: Array<Decided | undefined>,
  now: Date,
): Promise<void> {
  if (pending.length === 0) return;
  const current = new Map<string, ConversionRow>();
  const { rows } = await connection.query<ConversionRow>({
    ...SELECT_BY_IDENTITY,
    values: [pending.map((index) => submissions[index]!.operatorId), pending.map((index) => keys[index]!)],
  });
  for (const row of rows) current.set(`${row.operator_id}|${row.identity_key}`, row);
  for (const index of pending) {
    const submission = submissions[index]!;
    const key = `${submission.operatorId}|${keys[index]!}`;
    const repeat = await decideRepeat(connection, submission, current.get(key), now);
    if (repeat instanceof HubError) {
      decided[index] = { result: repeat };
      continue;
    }
    if (repeat.change || repeat.inserted) current.set(key, repeat.row);
    decided[index] = repeat.change
      ? { result: outcomeOf(ConversionOutcome.STATUS_CHANGED, repeat.row, repeat.change), event: { type: CONVERSION_STATUS_CHANGED, row: repeat.row, previous: repeat.change } }
      : repeat.inserted
        ? accepted(repeat.row)
        : { result: outcomeOf(ConversionOutcome.DUPLICATE, repeat.row, null) };
  }
}

function accepted(row: ConversionRow): Decided {
  return { result: outcomeOf(ConversionOutcome.ACCEPTED, row, null), event: { type: CONVERSION_RECORDED, row, previous: null } };
}

/** The calls answered with a conversion (not a 409): their log lines commit with it. */
function loggedInTransaction(submissions: readonly ConversionSubmission[], results: readonly ConversionResult[]): CallLog[] {
  return submissions.flatMap((submission, index) => (submission.callLog && !(results[index] instanceof Error) ? [submission.callLog] : []));
}

/** After the commit, so a rolled-back entry is still logged the ordinary way. */
function markLogged(submissions: readonly ConversionSubmission[], results: readonly ConversionResult[]): void {
  for (const callLog of loggedInTransaction(submissions, results)) callLog.markRecorded();
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

async function publish(tx: EntityManager, type: EventTypeSpec, row: ConversionRow, previousStatus: ConversionStatus | null): Promise<void> {
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
    occurredAt: toDate(row.occurred_at).toISOString(),
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
