import type { TaskList } from "graphile-worker";
import type { Hub } from "../context";
import { LIVE_PROBE_TASK } from "./live-probe.service";
import { liveProbeAnswer } from "./tasks/live_probe__answer";

export function liveTasks(hub: Hub): TaskList {
  return { [LIVE_PROBE_TASK]: liveProbeAnswer(hub) };
}
