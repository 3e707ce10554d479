import { logEntryOf, type AccessState } from "./access-gate";
import type { RequestLogEntry } from "./usage-recorder";

/** Money calls that succeed are answered 200 (REST and GraphQL alike). */
const SUCCESS_STATUS = 200;

/**
 * The request-log entry of an API call that may change money, for the service to write in
 * the transaction of that change (so an accepted postback always has its log line, even
 * if the process dies right after the commit). Other calls stay on the batched path.
 */
export interface CallLog {
  /** The entry as it stands now: status 200, the duration so far, the same id every time. */
  entry(): RequestLogEntry;
  /** After the commit: the response's own logging then skips this call. */
  markRecorded(): void;
}

export function callLogOf(state: AccessState, call: { requestId: string; method: string; route: string }): CallLog {
  return {
    entry: () => logEntryOf(state, { ...call, status: SUCCESS_STATUS, durationUs: (Date.now() - state.startedAt.getTime()) * 1000 }),
    markRecorded: () => {
      state.recorded = true;
    },
  };
}
