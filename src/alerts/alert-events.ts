import { defineEventType } from "../common/event-type";

export const ALERT_RAISED = defineEventType({
  name: "alert.raised",
  description: "An alert was raised (queue depth, dead deliveries, a disabled endpoint, a secret due for rotation).",
});
