import type { TenantRef } from "../common/tenant-scope";

export interface ConversionRecordedMessage extends TenantRef {
  /** The outbox event (`event.id`) whose payload names the conversion. */
  eventId: string;
  type: "conversion.recorded" | "conversion.status_changed";
}

declare module "../live/topics" {
  interface LiveTopics {
    /** A conversion was recorded or changed status (trigger on its outbox event row). */
    "conversion.recorded": ConversionRecordedMessage;
  }
}
