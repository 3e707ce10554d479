import { Counter, Gauge } from "prom-client";
import type { Hub } from "../context";
import type { ReadinessCheck } from "../http/health";
import { LiveListener, type ListenerMetrics } from "./live-listener";
import { StateSampler, type LiveSample } from "./state-sampler";

/** With the pid, so one process's listener can be told apart (and found) in pg_stat_activity. */
export function liveListenerApplicationName(role: string, pid: number): string {
  return `affiliate-hub:${role}:live:${pid}`;
}

export interface LiveHandle {
  /** The LISTEN connection (api roles only). */
  readonly listener: LiveListener | undefined;
  close(): Promise<void>;
}

function listenerMetrics(hub: Hub): ListenerMetrics {
  const registers = [hub.metrics];
  const connected = new Gauge({ name: "hub_live_listener_connected", help: "1 while this process LISTENs for live events", registers });
  const reconnects = new Counter({ name: "hub_live_listener_reconnects_total", help: "Times the live listener reconnected after losing its connection", registers });
  const received = new Counter({ name: "hub_live_messages_received_total", help: "Live messages received over LISTEN, by topic", labelNames: ["topic"], registers });
  const malformed = new Counter({ name: "hub_live_messages_malformed_total", help: "Messages on the live channel that were not valid live messages", registers });
  return {
    connected: (value) => connected.set(value ? 1 : 0),
    reconnected: () => reconnects.inc(),
    received: (topic) => received.inc({ topic }),
    malformed: () => malformed.inc(),
  };
}

/**
 * The live layer of one process. api roles: one LISTEN connection feeding the local
 * pub/sub that subscriptions read (and a readiness check on it). worker roles: the
 * state sampler that announces queue changes. Publishing (notifyLive) needs neither.
 */
export async function installLive(hub: Hub, databaseUrl: string, readiness: ReadinessCheck[], samples: readonly LiveSample[]): Promise<LiveHandle> {
  const steps: Array<() => Promise<void>> = [];
  let listener: LiveListener | undefined;
  if (hub.config.runsApi) {
    const started = new LiveListener({
      url: databaseUrl,
      applicationName: liveListenerApplicationName(hub.config.role, process.pid),
      pubSub: hub.pubSub,
      log: hub.log,
      metrics: listenerMetrics(hub),
    });
    listener = started;
    steps.push(() => started.close());
    await started.start();
    readiness.push({
      name: "live",
      check: async () => {
        if (!started.status().listening) throw new Error("live listener is reconnecting to the database");
      },
    });
  }
  if (hub.config.runsWorker) {
    const sampler = new StateSampler(hub, samples, hub.config.live.statePushIntervalMs);
    sampler.start();
    steps.push(() => sampler.close());
  }
  return {
    listener,
    close: async () => {
      for (const step of steps.reverse()) await step();
    },
  };
}
