import type { TaskList } from "graphile-worker";
import type { Hub } from "../context";
import { webhookTasks } from "../webhooks/tasks";

/** Each feature contributes `<table>__<verb>` tasks here; the worker runs exactly this list. */
export function collectTasks(hub: Hub): TaskList {
  return { ...webhookTasks(hub) };
}
