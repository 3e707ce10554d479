import { AlertKind, AlertSeverity } from "./alert.entity";
import type { AlertSpec } from "./alert.service";

/**
 * Which alerts should be active, decided from state (level-triggered): the queue, the
 * endpoints and the alerts now. Being derived from state rather than from the moment
 * something happened, the decision survives crashes and any number of processes.
 */

export interface EndpointFacts {
  id: string;
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  secretCreatedAt: Date;
  ownerOperatorId: string | null;
  ownerAffiliateId: string | null;
  dead: number;
  pending: number;
}

export interface ActiveAlertFacts {
  key: string;
  details: Record<string, unknown>;
}

export interface AlertRuleInput {
  now: Date;
  pending: number;
  queueDepthThreshold: number;
  disableAfterHours: number;
  secretMaxAgeDays: number;
  endpoints: EndpointFacts[];
  active: ActiveAlertFacts[];
}

export interface AlertActions {
  raise: AlertSpec[];
  resolve: string[];
  refresh: Array<{ key: string; message: string; details: Record<string, unknown>; reopen: boolean }>;
}

export const QUEUE_DEPTH_KEY = "queue_depth";
export const deadKey = (endpointId: string) => `deliveries_dead:${endpointId}`;
export const disabledKey = (endpointId: string) => `endpoint_disabled:${endpointId}`;
export const rotationKey = (endpointId: string) => `secret_rotation_due:${endpointId}`;
const ENDPOINT_KEY = /^(deliveries_dead|endpoint_disabled|secret_rotation_due):(.+)$/;

function named(endpoint: EndpointFacts): string {
  return endpoint.description ? `Webhook endpoint ${endpoint.id} (${endpoint.description})` : `Webhook endpoint ${endpoint.id}`;
}

function owner(endpoint: EndpointFacts) {
  return { endpointId: endpoint.id, operatorId: endpoint.ownerOperatorId, affiliateId: endpoint.ownerAffiliateId };
}

export function decideAlerts(input: AlertRuleInput): AlertActions {
  const actions: AlertActions = { raise: [], resolve: [], refresh: [] };
  const active = new Map(input.active.map((alert) => [alert.key, alert]));
  const wanted = new Set<string>();

  const want = (spec: AlertSpec) => {
    wanted.add(spec.key);
    if (!active.has(spec.key)) actions.raise.push(spec);
  };

  // Queue depth: raised above the threshold, resolved below it (at exactly the threshold it stays as it is).
  if (input.pending > input.queueDepthThreshold) {
    const top = [...input.endpoints].sort((a, b) => b.pending - a.pending)[0];
    want({
      kind: AlertKind.QUEUE_DEPTH,
      severity: AlertSeverity.WARNING,
      key: QUEUE_DEPTH_KEY,
      message: `Webhook queue depth is ${input.pending}, above the threshold of ${input.queueDepthThreshold}`,
      details: { pending: input.pending, threshold: input.queueDepthThreshold, topEndpointId: top?.pending ? top.id : null },
      // The biggest contributor is the likeliest cause: the alert is not sent there.
      endpointId: top?.pending ? top.id : null,
    });
  } else if (input.pending >= input.queueDepthThreshold && active.has(QUEUE_DEPTH_KEY)) {
    wanted.add(QUEUE_DEPTH_KEY);
  }

  for (const endpoint of input.endpoints) {
    if (endpoint.dead > 0) {
      const key = deadKey(endpoint.id);
      const message = `${named(endpoint)} has ${endpoint.dead} dead ${endpoint.dead === 1 ? "delivery" : "deliveries"} (every retry failed): review and replay`;
      want({ kind: AlertKind.DELIVERIES_DEAD, severity: AlertSeverity.CRITICAL, key, message, details: { deadDeliveries: endpoint.dead }, ...owner(endpoint) });
      const current = active.get(key);
      const before = Number(current?.details.deadDeliveries ?? 0);
      if (current && endpoint.dead !== before) {
        actions.refresh.push({ key, message, details: { deadDeliveries: endpoint.dead }, reopen: endpoint.dead > before });
      }
    }
    if (!endpoint.enabled && (endpoint.disabledReason === "GONE" || endpoint.disabledReason === "FAILING")) {
      const why = endpoint.disabledReason === "GONE" ? "its receiver answered 410 Gone" : `it failed continuously for ${input.disableAfterHours} hours`;
      want({
        kind: AlertKind.ENDPOINT_DISABLED,
        severity: AlertSeverity.CRITICAL,
        key: disabledKey(endpoint.id),
        message: `${named(endpoint)} was disabled: ${why}; its deliveries wait until it is re-enabled`,
        details: { reason: endpoint.disabledReason },
        ...owner(endpoint),
      });
    }
    const ageDays = (input.now.getTime() - endpoint.secretCreatedAt.getTime()) / 86_400_000;
    if (ageDays > input.secretMaxAgeDays) {
      want({
        kind: AlertKind.SECRET_ROTATION_DUE,
        severity: AlertSeverity.WARNING,
        key: rotationKey(endpoint.id),
        message: `${named(endpoint)}'s signing secret is ${Math.floor(ageDays)} days old (limit ${input.secretMaxAgeDays}): rotate it`,
        details: { secretAgeDays: Math.floor(ageDays), maxAgeDays: input.secretMaxAgeDays },
        ...owner(endpoint),
      });
    }
  }

  for (const alert of input.active) {
    if (wanted.has(alert.key)) continue;
    // Only alerts these rules own: queue depth and the per-endpoint kinds.
    if (alert.key === QUEUE_DEPTH_KEY || ENDPOINT_KEY.test(alert.key)) actions.resolve.push(alert.key);
  }
  return actions;
}
