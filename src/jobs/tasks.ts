import type { TaskList } from "graphile-worker";
import type { Hub } from "../context";

/** Each feature contributes `<table>__<verb>` tasks here; the worker runs exactly this list. */
export function collectTasks(_hub: Hub): TaskList {
  return {};
}
