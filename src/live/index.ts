import type { HubFeature } from "../feature";
import { LiveProbeResolver } from "./live-probe.resolver";
import { LIVE_PROBE_TASK } from "./live-probe.service";
import { liveProbeAnswer } from "./tasks/live_probe__answer";

/** The live layer's end-to-end probe (the layer itself is infrastructure, installed by hub.ts). */
export const liveFeature: HubFeature = {
  name: "live",
  resolvers: [LiveProbeResolver],
  tasks: (hub) => ({ [LIVE_PROBE_TASK]: liveProbeAnswer(hub) }),
};
