import type { HubFeature } from "../feature";
import { ALERT_RAISED } from "./alert-events";
import { AlertLiveResolver } from "./alert-live.resolver";
import { startAlertMonitor } from "./alert-monitor";
import { Alert } from "./alert.entity";
import { AlertResolver } from "./alert.resolver";

/** Alerts derived from state (queue depth, dead deliveries, disabled endpoints, secrets due), raised by the worker's monitor. */
export const alertsFeature: HubFeature = {
  name: "alerts",
  entities: [Alert],
  resolvers: [AlertResolver, AlertLiveResolver],
  eventTypes: [ALERT_RAISED],
  install: ({ hub, onClose }) => {
    if (!hub.config.runsWorker) return;
    const monitor = startAlertMonitor(hub);
    onClose(() => monitor.stop());
  },
};
