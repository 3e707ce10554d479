import type { EntityManager } from "@mikro-orm/postgresql";
import type { HubConfig } from "../config";
import type { Hub } from "../context";
import { everyInterval, TRY_XACT_LOCK_SQL, type IntervalLoop } from "../common/interval-loop";
import type { Logger } from "../common/logger";
import { queueStats, type QueueStats } from "../webhooks/queue-stats";
import { decideAlerts, type AlertActions } from "./alert-rules";
import { raiseAlert, refreshAlert, resolveAlert } from "./alert.service";
import { toDate } from "../db/sql";

interface EndpointRow {
  id: string;
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  secret_created_at: string | Date;
  owner_operator_id: string | null;
  owner_affiliate_id: string | null;
}

/**
 * Brings the active alerts in line with the state (queue depth, dead deliveries, endpoints
 * disabled by the engine, secrets due for rotation) inside the caller's transaction.
 */
export async function reconcileAlerts(em: EntityManager, log: Logger, config: HubConfig, stats: QueueStats): Promise<AlertActions> {
  const endpoints = await em.execute<EndpointRow[]>(
    `select id, description, enabled, disabled_reason, secret_created_at, owner_operator_id, owner_affiliate_id
     from webhook_endpoint`,
  );
  const active = await em.execute<Array<{ key: string; details: Record<string, unknown> }>>(
    "select key, details from alert where resolved_at is null",
  );
  const perEndpoint = new Map(stats.endpoints.map((s) => [s.endpointId, s]));
  const actions = decideAlerts({
    now: stats.sampledAt,
    pending: stats.pending,
    queueDepthThreshold: config.queueDepthAlertThreshold,
    disableAfterHours: config.webhooks.disableAfterHours,
    secretMaxAgeDays: config.webhooks.secretMaxAgeDays,
    endpoints: endpoints.map((row) => ({
      id: row.id,
      description: row.description,
      enabled: row.enabled,
      disabledReason: row.disabled_reason,
      secretCreatedAt: toDate(row.secret_created_at),
      ownerOperatorId: row.owner_operator_id,
      ownerAffiliateId: row.owner_affiliate_id,
      dead: perEndpoint.get(row.id)?.dead ?? 0,
      pending: perEndpoint.get(row.id)?.pending ?? 0,
    })),
    active,
  });
  for (const key of actions.resolve) await resolveAlert(em, log, key);
  for (const change of actions.refresh) await refreshAlert(em, change.key, change);
  for (const spec of actions.raise) await raiseAlert(em, log, spec);
  return actions;
}

/** Any constant: one process at a time evaluates alerts. */
const MONITOR_LOCK_KEY = 7_426_105;

/** Worker roles: every QUEUE_SAMPLE_INTERVAL_MS, one process brings the alerts in line with the queue. */
export function startAlertMonitor(hub: Hub): IntervalLoop {
  const log = hub.log.child({ component: "alerts" });
  return everyInterval(log, "alert monitor", hub.config.queueSampleIntervalMs, () =>
    hub.orm.em.fork().transactional(async (em) => {
      const [lock] = await em.execute<Array<{ locked: boolean }>>(TRY_XACT_LOCK_SQL, [MONITOR_LOCK_KEY]);
      if (!lock?.locked) return;
      await reconcileAlerts(em, log, hub.config, await queueStats(em));
    }),
  );
}
