import type { Task } from "graphile-worker";
import type { Hub } from "../../context";
import { answerLiveProbe, type LiveProbeRequest } from "../live-probe.service";

function isProbeRequest(payload: unknown): payload is LiveProbeRequest {
  const value = payload as Partial<LiveProbeRequest> | null;
  return typeof value?.probeId === "string" && typeof value.sentAt === "string" && typeof value.sentBy === "object" && value.sentBy !== null;
}

/** Answers a live probe from the worker. Running it twice sends a second echo with the same probeId: harmless. */
export function liveProbeAnswer(hub: Hub): Task {
  return async (payload) => {
    if (!isProbeRequest(payload)) {
      hub.log.warn({ task: "live_probe__answer" }, "ignored a malformed live probe job");
      return;
    }
    await answerLiveProbe(hub, hub.orm.em.fork(), payload);
  };
}
