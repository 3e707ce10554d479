import type { TenantRef } from "../common/tenant-scope";

/**
 * The live topics: what travels between hub processes over Postgres NOTIFY, and what
 * subscriptions read from the in-process pub/sub. Payloads carry ids and a few small
 * fields; the subscription that receives one loads the rest (NOTIFY caps a message at
 * 8000 bytes, see notify.ts).
 *
 * Wiring a new live feature is one entry here plus a producer (notifyLive in the
 * transaction, or the hub_live_notify() trigger function) and a subscription.
 */

/** The one Postgres channel every hub process LISTENs on. The migration's trigger function names it too. */
export const LIVE_CHANNEL = "affiliate_hub_live";

export interface ProcessRef {
  role: string;
  hostname: string;
  pid: number;
  version: string;
}

export interface LiveProbeMessage extends TenantRef {
  probeId: string;
  route: "API" | "WORKER";
  sentAt: string;
  sentBy: ProcessRef;
  answeredAt: string;
  answeredBy: ProcessRef;
}

/**
 * Topic → payload. Every topic here may cross processes. Features add their own topics
 * to this interface (`declare module "../live/topics"`) in their `*-topics.ts`.
 */
export interface LiveTopics {
  /** An API key was revoked or deleted (the api_key trigger): its WebSockets close. */
  "auth.api_key_revoked": { apiKeyId: string };
  /** The worker's job queue counts changed (the worker's sampler). */
  "jobs.queue_changed": Record<string, never>;
  /** A live probe's answer (sendLiveProbe). */
  "live.probe": LiveProbeMessage;
}

export type LiveTopic = keyof LiveTopics;

/**
 * Local only, never sent over NOTIFY: this process's listener reconnected, so
 * notifications may have been missed. State feeds reload and push; the WebSocket
 * layer re-checks the keys of its open connections.
 */
export const LIVE_RESYNC = "live.resync";
