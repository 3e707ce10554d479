import type { EntityManager } from "@mikro-orm/postgresql";
import { newId } from "../common/ids";
import type { Hub, RequestContext } from "../context";
import { enqueueJob } from "../jobs/enqueue";
import { notifyLive } from "./notify";
import { thisProcess } from "./process-info";
import { tenantEvents } from "./subscriptions";
import type { LiveProbeMessage, ProcessRef } from "./topics";
import { HubProcess, LiveProbe, LiveProbeEcho, LiveProbeRoute } from "./live-probe.types";
import { isAdmin, type Viewer } from "../common/viewer";

export const LIVE_PROBE_TASK = "live_probe__answer";

/** What the probe job carries: everything but the answer. */
export type LiveProbeRequest = Omit<LiveProbeMessage, "answeredAt" | "answeredBy">;

/**
 * An end-to-end check of the live path, for operators of the hub and for integrators
 * checking their own connection: the probe travels api → (job queue → worker) →
 * NOTIFY → every api process → every subscriber allowed to see it. A tenant key's
 * probe reaches only that tenant's subscribers (and admins).
 */
export async function sendLiveProbe(ctx: RequestContext, route: LiveProbeRoute): Promise<LiveProbe> {
  const viewer = ctx.viewer;
  const request: LiveProbeRequest = {
    probeId: newId(),
    route,
    sentAt: new Date().toISOString(),
    sentBy: thisProcess(ctx.hub.config.role),
    operatorId: viewer.kind === "key" ? viewer.operatorId : null,
    affiliateId: viewer.kind === "key" ? viewer.affiliateId : null,
  };
  if (route === LiveProbeRoute.WORKER) {
    // A stale probe answered late would only mislead: one attempt, one job per probe.
    await enqueueJob(ctx.em, LIVE_PROBE_TASK, request, { jobKey: `live_probe:${request.probeId}`, maxAttempts: 1 });
  } else {
    await answerLiveProbe(ctx.hub, ctx.em, request);
  }
  return Object.assign(new LiveProbe(), {
    id: request.probeId,
    route,
    sentAt: new Date(request.sentAt),
    sentBy: toHubProcess(request.sentBy, viewer),
  });
}

export async function answerLiveProbe(hub: Hub, em: EntityManager, request: LiveProbeRequest): Promise<void> {
  await notifyLive(em, "live.probe", { ...request, answeredAt: new Date().toISOString(), answeredBy: thisProcess(hub.config.role) });
}

export function liveProbeEchoes(ctx: RequestContext): AsyncIterableIterator<LiveProbeMessage> {
  return tenantEvents(ctx, "live.probe");
}

export function toLiveProbeEcho(message: LiveProbeMessage, ctx: RequestContext): LiveProbeEcho {
  return Object.assign(new LiveProbeEcho(), {
    probeId: message.probeId,
    route: message.route === "API" ? LiveProbeRoute.API : LiveProbeRoute.WORKER,
    sentAt: new Date(message.sentAt),
    sentBy: toHubProcess(message.sentBy, ctx.viewer),
    answeredAt: new Date(message.answeredAt),
    answeredBy: toHubProcess(message.answeredBy, ctx.viewer),
    receivedAt: new Date(),
    receivedBy: toHubProcess(thisProcess(ctx.hub.config.role), ctx.viewer),
  });
}

/** Host names and pids describe the deployment: admins only. */
function toHubProcess(ref: ProcessRef, viewer: Viewer): HubProcess {
  const admin = isAdmin(viewer);
  return Object.assign(new HubProcess(), {
    role: ref.role,
    version: ref.version,
    hostname: admin ? ref.hostname : null,
    pid: admin ? ref.pid : null,
  });
}
