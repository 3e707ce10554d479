import { defineEventType } from "../common/event-type";

export const WEBHOOK_TEST = defineEventType({
  name: "webhook.test",
  description: "Sent by sendTestWebhook to one endpoint, whatever its filter.",
});
