import type { LoadRequest, LoadTarget } from "./load";
import type { PostbackSource } from "./postback-source";

/**
 * What was sent and what came back, per event id, so a run can be settled and checked
 * exactly: every id sent must end up with one stored conversion, whatever the timing.
 */
export class IngestLedger {
  readonly sentIds = new Set<string>();
  readonly answeredIds = new Set<string>();
  readonly outcomes: Record<string, number> = {};

  sent(eventId: string): void {
    this.sentIds.add(eventId);
  }

  answered(eventId: string, status: number, body: string): void {
    const outcome = describeOutcome(status, body);
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
    if (status === 200) this.answeredIds.add(eventId);
  }

  /** Ids sent whose answer never came (in flight when the load stopped) or was not 200. */
  unsettled(): string[] {
    return [...this.sentIds].filter((id) => !this.answeredIds.has(id));
  }

  count(outcome: string): number {
    return this.outcomes[outcome] ?? 0;
  }
}

function describeOutcome(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { status?: unknown; error?: { code?: unknown } };
    if (status === 200 && typeof parsed.status === "string") return parsed.status;
    if (parsed.error && typeof parsed.error.code === "string") return `${status} ${parsed.error.code}`;
  } catch {
    // not JSON: the status alone
  }
  return `${status}`;
}

export function postbackTarget(url: string, source: PostbackSource, ledger: IngestLedger): LoadTarget {
  return {
    url,
    path: "/postback",
    next: (): LoadRequest => {
      const request = source.next();
      ledger.sent(request.eventId);
      return { key: request.eventId, body: request.body, headers: request.headers };
    },
    answered: (key, status, body) => ledger.answered(key, status, body),
  };
}

/**
 * Sends each unsettled id once more, one at a time: the load generator stops with
 * requests in flight, which the server may or may not have processed. Postbacks are
 * idempotent, so the resend is answered `duplicate` or `accepted` and the id is settled.
 */
export async function settle(url: string, source: PostbackSource, ledger: IngestLedger): Promise<number> {
  const unsettled = ledger.unsettled();
  for (const eventId of unsettled) {
    const request = source.resend(eventId);
    const response = await fetch(`${url}/postback`, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(30_000),
    });
    ledger.answered(eventId, response.status, await response.text());
  }
  return unsettled.length;
}
