import type { TenantRef } from "../common/tenant-scope";

export type AlertChange = "RAISED" | "UPDATED" | "RESOLVED";

export interface AlertChangedMessage extends TenantRef {
  alertId: string;
  state: AlertChange;
}

declare module "../live/topics" {
  interface LiveTopics {
    /** An alert was raised, updated or resolved (alert.service.ts, in the alert's transaction). */
    "alert.raised": AlertChangedMessage;
  }
}
