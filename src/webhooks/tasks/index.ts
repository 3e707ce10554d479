import type { TaskList } from "graphile-worker";
import type { Hub } from "../../context";
import { DELIVERY_ATTEMPT_TASK, REPLAY_BATCH_TASK } from "../delivery-jobs";
import { deliveryAttemptTask } from "./delivery__attempt";
import { replayBatchTask } from "./delivery_replay_batch__run";

export function webhookTasks(hub: Hub): TaskList {
  return {
    [DELIVERY_ATTEMPT_TASK]: deliveryAttemptTask(hub),
    [REPLAY_BATCH_TASK]: replayBatchTask(hub),
  };
}
