import { defineEventType } from "../common/event-type";

export const CONVERSION_RECORDED = defineEventType({
  name: "conversion.recorded",
  description: "A new conversion was accepted (postback, GraphQL, import or connector).",
  postbackUrl: true,
});

export const CONVERSION_STATUS_CHANGED = defineEventType({
  name: "conversion.status_changed",
  description: "A known conversion moved to another status (approved, rejected, reversed).",
  postbackUrl: true,
});

export const CONVERSION_EVENT_TYPES = [CONVERSION_RECORDED, CONVERSION_STATUS_CHANGED];
