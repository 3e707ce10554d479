import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { QueueStats } from "./queue-stats";

export interface WebhookMetrics {
  /** Attempt outcomes: succeeded, retrying, dead, lost (worker died mid-attempt). */
  deliveries: Counter<"outcome">;
  attemptDuration: Histogram<"outcome">;
  attemptErrors: Counter<"error_class">;
  /** Delivery jobs that found every in-flight slot of their endpoint busy and parked (not attempts). */
  slotWaits: Counter;
}

function getOrCreate<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** The process's webhook metrics on the hub's registry (created once, shared by callers). */
export function webhookMetrics(registry: Registry): WebhookMetrics {
  return {
    deliveries: getOrCreate(registry, "hub_webhook_deliveries_total", () => new Counter({
      name: "hub_webhook_deliveries_total",
      help: "Webhook delivery attempts by outcome: succeeded, retrying (failed, retry scheduled), dead (last attempt failed), lost (worker died mid-attempt)",
      labelNames: ["outcome"] as const,
      registers: [registry],
    })),
    attemptDuration: getOrCreate(registry, "hub_webhook_attempt_duration_seconds", () => new Histogram({
      name: "hub_webhook_attempt_duration_seconds",
      help: "Duration of webhook HTTP attempts, by success or failure",
      labelNames: ["outcome"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    })),
    attemptErrors: getOrCreate(registry, "hub_webhook_attempt_errors_total", () => new Counter({
      name: "hub_webhook_attempt_errors_total",
      help: "Failed webhook attempts by error class: timeout, connection, dns, tls, http",
      labelNames: ["error_class"] as const,
      registers: [registry],
    })),
    slotWaits: getOrCreate(registry, "hub_webhook_slot_waits_total", () => new Counter({
      name: "hub_webhook_slot_waits_total",
      help: "Delivery jobs that found every in-flight slot of their endpoint busy and parked until one frees (waiting, not failed, not an attempt)",
      registers: [registry],
    })),
  };
}

/** Scrapes within this window share one queueStats read. */
const STATS_REUSE_MS = 500;

/**
 * Queue gauges read at scrape time (any role), from the same cheap queueStats the API
 * serves, so every process reports the shared queue and nothing needs a timer.
 */
export function registerQueueGauges(registry: Registry, readStats: () => Promise<QueueStats>, onError: (error: unknown) => void): void {
  let cached: { at: number; stats: Promise<QueueStats> } | undefined;
  const stats = () => {
    const now = Date.now();
    if (!cached || now - cached.at > STATS_REUSE_MS) cached = { at: now, stats: readStats() };
    return cached.stats;
  };
  const gauge = (name: string, help: string, pick: (stats: QueueStats) => number) => {
    if (registry.getSingleMetric(name)) return;
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        try {
          this.set(pick(await stats()));
        } catch (error) {
          // Keep the last value; a scrape must not fail because the database blinked.
          onError(error);
        }
      },
    });
  };
  gauge("hub_webhook_queue_depth", "Deliveries not yet succeeded or dead", (s) => s.pending);
  gauge("hub_webhook_due_now", "Pending deliveries due now and not in flight", (s) => s.dueNow);
  gauge("hub_webhook_in_flight", "Deliveries being attempted right now", (s) => s.inFlight);
  gauge("hub_webhook_dead_deliveries", "Deliveries that exhausted their attempts (awaiting review or replay)", (s) => s.dead);
  gauge("hub_webhook_oldest_pending_age_seconds", "Age of the oldest pending delivery (0 when none)", (s) => s.oldestPendingAgeSeconds ?? 0);
}
