import { createHmac } from "node:crypto";

/**
 * Builds the postbacks the load generator sends: each one a JSON body signed the way the
 * hub's contract says (`X-Hub-Timestamp`, `X-Hub-Signature: v1=<hex HMAC-SHA256 of
 * timestamp + "." + body>`), with the operator's API key. Each call of `next()` is one
 * request; in duplicate mode every event id is sent twice, so half the requests repeat
 * an earlier one (and the pairs race each other across connections).
 */
export interface PostbackRequest {
  eventId: string;
  body: string;
  headers: Record<string, string>;
}

export interface PostbackSourceOptions {
  apiKey: string;
  secret: string;
  /** Makes the event ids of one run unique across runs. */
  idPrefix: string;
  /** Click ids from the hub's click redirect, so postbacks are attributed; empty: unattributed. */
  clickIds: readonly string[];
  duplicates?: boolean;
}

export interface PostbackSource {
  next(): PostbackRequest;
  /** The same request again (a fresh timestamp and signature): settles requests left unanswered. */
  resend(eventId: string): PostbackRequest;
  readonly requestsMade: number;
}

export function signPostbackBody(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

export function postbackSource(options: PostbackSourceOptions): PostbackSource {
  let made = 0;
  const build = (sequence: number): PostbackRequest => {
    const eventId = `${options.idPrefix}-${sequence}`;
    // Each player always comes with the same click, as a real player would.
    const player = sequence % Math.max(1, options.clickIds.length);
    const clickId = options.clickIds[player];
    const body = JSON.stringify({
      event: "deposit",
      event_id: eventId,
      ...(clickId ? { click_id: clickId } : {}),
      customer_id: `bench-player-${player}`,
      amount: `${(sequence % 500) + 10}.50`,
      currency: "EUR",
      status: "approved",
      sub1: "bench",
    });
    const timestamp = Math.floor(Date.now() / 1000);
    return {
      eventId,
      body,
      headers: {
        "content-type": "application/json",
        "x-api-key": options.apiKey,
        "x-hub-timestamp": String(timestamp),
        "x-hub-signature": signPostbackBody(options.secret, timestamp, body),
      },
    };
  };
  return {
    next: () => {
      const sequence = options.duplicates ? Math.floor(made / 2) : made;
      made += 1;
      return build(sequence);
    },
    resend: (eventId) => build(Number(eventId.slice(options.idPrefix.length + 1))),
    get requestsMade() {
      return made;
    },
  };
}
