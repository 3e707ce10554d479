import type { EntityManager } from "@mikro-orm/postgresql";
import { NotFoundError } from "../common/errors";
import type { Logger } from "../common/logger";
import { findPage, newestFirstById, type Page } from "../common/pagination";
import type { RequestContext } from "../context";
import { notifyLive } from "../live/notify";
import { Alert, AlertKind, AlertSeverity } from "./alert.entity";
import { scopeColumns, scopeOf } from "../common/tenant-scope";
import { publishEvent } from "../outbox/publish";
import { ALERT_RAISED } from "./alert-events";
import { type AlertChange } from "./alert-topics";
import { toDate } from "../db/sql";

export interface AlertSpec {
  kind: AlertKind;
  severity: AlertSeverity;
  key: string;
  message: string;
  details?: Record<string, unknown>;
  /** The endpoint that caused it: its `alert.raised` event never goes there. */
  endpointId?: string | null;
  operatorId?: string | null;
  affiliateId?: string | null;
}

interface AlertRow {
  id: string;
  created_at: string | Date;
  kind: AlertKind;
  severity: AlertSeverity;
  key: string;
  message: string;
  details: Record<string, unknown>;
  endpoint_id: string | null;
  operator_id: string | null;
  affiliate_id: string | null;
  resolved_at: string | Date | null;
}

/** What an `alert.raised` event carries (and the log line says). */
export function alertEventData(row: AlertRow): Record<string, unknown> {
  return {
    alertId: row.id,
    kind: row.kind,
    severity: row.severity,
    key: row.key,
    message: row.message,
    details: row.details,
    endpointId: row.endpoint_id,
    raisedAt: toDate(row.created_at).toISOString(),
    resolvedAt: toDate(row.resolved_at)?.toISOString() ?? null,
  };
}

/**
 * Raises an alert unless one with the same key is active (a partial unique index decides,
 * so concurrent raisers agree). A new alert is a row, a log line and an `alert.raised`
 * event, all in the caller's transaction. Returns the alert id when this call raised it.
 */
export async function raiseAlert(em: EntityManager, log: Logger, spec: AlertSpec): Promise<string | undefined> {
  const rows = await em.execute<AlertRow[]>(
    `insert into alert (id, created_at, kind, severity, key, message, details, endpoint_id, operator_id, affiliate_id)
     values (hub_uuid_v7(), now(), ?, ?, ?, ?, ?::jsonb, ?::uuid, ?::uuid, ?::uuid)
     on conflict (key) where resolved_at is null do nothing
     returning *`,
    [spec.kind, spec.severity, spec.key, spec.message, JSON.stringify(spec.details ?? {}), spec.endpointId ?? null, spec.operatorId ?? null, spec.affiliateId ?? null],
  );
  const row = rows[0];
  if (!row) return undefined;
  log.warn({ alert: alertEventData(row) }, `alert raised: ${row.message}`);
  await announce(em, row, "RAISED");
  await publishEvent(em, {
    type: ALERT_RAISED,
    data: alertEventData(row),
    operatorId: row.operator_id,
    affiliateId: row.affiliate_id,
    excludeEndpointIds: row.endpoint_id ? [row.endpoint_id] : [],
  });
  return row.id;
}

/** Ends the active alert with this key, if any (a row update and a log line). */
export async function resolveAlert(em: EntityManager, log: Logger, key: string): Promise<string | undefined> {
  const rows = await em.execute<AlertRow[]>(
    "update alert set resolved_at = now() where key = ? and resolved_at is null returning *",
    [key],
  );
  const row = rows[0];
  if (!row) return undefined;
  log.info({ alert: alertEventData(row) }, `alert resolved: ${row.message}`);
  await announce(em, row, "RESOLVED");
  return row.id;
}

/**
 * Updates an active alert's details as its condition grows (e.g. more dead deliveries);
 * `reopen` clears an acknowledgement, since what was acknowledged is no longer all of it.
 */
export async function refreshAlert(em: EntityManager, key: string, change: { message: string; details: Record<string, unknown>; reopen: boolean }): Promise<void> {
  const rows = await em.execute<Array<Pick<AlertRow, "id" | "operator_id" | "affiliate_id">>>(
    `update alert set message = ?, details = ?::jsonb,
       acknowledged_at = case when ? then null else acknowledged_at end,
       acknowledged_by_key_id = case when ? then null else acknowledged_by_key_id end
     where key = ? and resolved_at is null
     returning id, operator_id, affiliate_id`,
    [change.message, JSON.stringify(change.details), change.reopen, change.reopen, key],
  );
  for (const row of rows) await announce(em, row, "UPDATED");
}

/** Tells live subscribers (alertRaised), on commit of the alert's own transaction. */
async function announce(em: EntityManager, row: Pick<AlertRow, "id" | "operator_id" | "affiliate_id">, state: AlertChange): Promise<void> {
  await notifyLive(em, "alert.raised", { alertId: row.id, operatorId: row.operator_id, affiliateId: row.affiliate_id, state });
}

export const ALERT_LIST = newestFirstById("alerts", 100);

export async function listAlerts(ctx: RequestContext, filter: { active?: boolean | null }, first?: number | null, after?: string | null): Promise<Page<Alert>> {
  const where: Record<string, unknown> = { ...scopeColumns(scopeOf(ctx.viewer)) };
  if (filter.active === true) where.resolvedAt = null;
  if (filter.active === false) where.resolvedAt = { $ne: null };
  return findPage(ctx.em, Alert, where, ALERT_LIST, { first, after });
}

export async function acknowledgeAlert(ctx: RequestContext, id: string): Promise<Alert> {
  const alert = await ctx.em.findOne(Alert, { id, ...scopeColumns(scopeOf(ctx.viewer)) });
  if (!alert) throw new NotFoundError("Alert", id);
  if (!alert.acknowledgedAt) {
    alert.acknowledgedAt = new Date();
    alert.acknowledgedByKeyId = ctx.viewer.kind === "key" ? ctx.viewer.apiKeyId : null;
    await ctx.em.flush();
    ctx.log.info({ alertId: alert.id, key: alert.key }, "alert acknowledged");
  }
  return alert;
}
