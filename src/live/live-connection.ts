import type { RequestContext } from "../context";
import type { QueueBudget } from "./local-pubsub";

/** What a subscription may ask of the WebSocket connection it runs on. */
export interface LiveConnection {
  /** Events waiting for this client, counted across all its subscriptions (WS_MAX_QUEUED_EVENTS). */
  readonly queueBudget: QueueBudget;
  /** The client cannot keep up with what it subscribed to: close it (WS close code 4008). */
  fellBehind(reason: string): void;
}

/** The context of an operation over graphql-ws: a RequestContext plus its connection. */
export interface LiveRequestContext extends RequestContext {
  readonly liveConnection?: LiveConnection;
}

export function liveConnectionOf(ctx: RequestContext): LiveConnection | undefined {
  return (ctx as LiveRequestContext).liveConnection;
}
