import type { EntityManager } from "@mikro-orm/postgresql";
import { LIVE_CHANNEL, type LiveTopic, type LiveTopics } from "./topics";

/** Postgres refuses a NOTIFY payload of 8000 bytes or more (in the server encoding, UTF-8 here). */
export const MAX_LIVE_MESSAGE_BYTES = 7_999;

/** A live message too big for NOTIFY: send ids and let the subscriber load the rest. */
export class LivePayloadTooLargeError extends Error {
  constructor(readonly topic: string, readonly bytes: number) {
    super(
      `Live message for ${topic} is ${bytes} bytes; NOTIFY allows ${MAX_LIVE_MESSAGE_BYTES}. ` +
        "Send ids and small fields only, and load the rest in the subscription.",
    );
    this.name = "LivePayloadTooLargeError";
  }
}

/** The wire form on LIVE_CHANNEL: `{"topic": ..., "payload": {...}}`. */
export interface LiveMessage {
  topic: string;
  payload: Record<string, unknown>;
}

/**
 * Encodes one message, refusing (rather than chunking) anything NOTIFY cannot carry:
 * chunks could interleave and be half-lost across a listener reconnect, while a
 * refusal surfaces the design mistake in the producer's own transaction.
 */
export function encodeLiveMessage<T extends LiveTopic>(topic: T, payload: LiveTopics[T]): string {
  const text = JSON.stringify({ topic, payload });
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_LIVE_MESSAGE_BYTES) throw new LivePayloadTooLargeError(topic, bytes);
  return text;
}

/** Parses what arrives on LIVE_CHANNEL; anything malformed is undefined. */
export function decodeLiveMessage(text: string | undefined): LiveMessage | undefined {
  if (!text) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { topic, payload } = parsed as Record<string, unknown>;
  if (typeof topic !== "string" || topic === "") return undefined;
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return undefined;
  return { topic, payload: payload as Record<string, unknown> };
}

/**
 * Publishes a live event to every hub process, on the EntityManager's own connection:
 * inside `em.transactional()` it is delivered on commit and dropped on rollback, like
 * the rows it announces. Outside a transaction it goes at once.
 *
 * Postgres folds identical messages sent in one transaction into one, which suits
 * "something changed" signals; events that must each arrive carry their own id.
 */
export async function notifyLive<T extends LiveTopic>(em: EntityManager, topic: T, payload: LiveTopics[T]): Promise<void> {
  await em.execute("select pg_notify(?, ?)", [LIVE_CHANNEL, encodeLiveMessage(topic, payload)]);
}

/** Many messages of one topic in one statement (bulk producers). Each obeys the size limit. */
export async function notifyLiveMany<T extends LiveTopic>(em: EntityManager, topic: T, payloads: Array<LiveTopics[T]>): Promise<void> {
  if (payloads.length === 0) return;
  const messages = payloads.map((payload) => encodeLiveMessage(topic, payload));
  // As one JSON text parameter: the query builder would expand a JS array into a list.
  await em.execute(
    "select pg_notify(?, m.message) from json_array_elements_text(cast(? as json)) with ordinality as m(message, n) order by m.n",
    [LIVE_CHANNEL, JSON.stringify(messages)],
  );
}
