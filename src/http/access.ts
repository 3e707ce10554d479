import type { HubError } from "../common/errors";
import { newId } from "../common/ids";
import { ANONYMOUS, type ApiKeyRole, type Viewer } from "../common/viewer";

/**
 * The HTTP layer's side of access control: how a route declares who may enter, the facts
 * a call collects on the way, and the gate that checks them. The auth feature implements
 * the gate (keys, allowlists, rate limits, request log) and installs it on the routes.
 */

/** How a route is entered; routes declare it as `config: { access }`. */
export type AccessPolicy =
  | {
      readonly kind: "key";
      /** Missing key: refuse with MISSING_API_KEY, or continue anonymous (GraphQL: the resolvers decide). */
      readonly requireKey: boolean;
      /** Also read `?api_key=` (for networks that can only fire a URL). */
      readonly queryKey?: boolean;
      readonly roles?: readonly ApiKeyRole[];
      /** The route renders refusals itself (GraphQL answers in its own error shape). */
      readonly deferRefusal?: boolean;
      /** Calls without a key spend the client IP's anonymous budget (ANONYMOUS_RATE_LIMIT_PER_MINUTE). */
      readonly anonymousBudget?: boolean;
    }
  | {
      /** Anybody, within a budget per client IP. */
      readonly kind: "public";
    };

/** The key a call presented, as far as the HTTP layer needs it (the auth feature's record has more). */
export interface AccessKey {
  readonly id: string;
  readonly role: ApiKeyRole;
  readonly operatorId: string | null;
  readonly affiliateId: string | null;
}

/** One request's (or WebSocket operation's) access facts, filled in as it goes, logged at the end. */
export interface AccessState {
  readonly startedAt: Date;
  readonly clientIp: string;
  key: AccessKey | null;
  viewer: Viewer;
  /** A refusal the route renders itself (deferRefusal). */
  refusal: HubError | null;
  operation: string | null;
  errorCode: string | null;
  /** Set once the entry is in the log, so a call is never logged twice. */
  recorded: boolean;
  /**
   * The id of this call's log entry, fixed up front: a money call's entry is written in its
   * transaction, and should the response's own logging race with it, the same id makes the
   * second write a no-op.
   */
  readonly logEntryId: string;
}

export function newAccessState(clientIp: string): AccessState {
  return { startedAt: new Date(), clientIp, key: null, viewer: ANONYMOUS, refusal: null, operation: null, errorCode: null, recorded: false, logEntryId: newId() };
}

/** One finished call, for the request log. */
export interface CallRecord {
  requestId: string;
  method: string;
  route: string;
  status: number;
  durationUs: number;
}

/** One line of the request log. */
export interface RequestLogEntry {
  id: string;
  createdAt: Date;
  requestId: string;
  apiKeyId: string | null;
  operatorId: string | null;
  affiliateId: string | null;
  clientIp: string | null;
  method: string;
  route: string;
  operation: string | null;
  status: number;
  errorCode: string | null;
  durationUs: number;
}

export function logEntryOf(state: AccessState, call: CallRecord): RequestLogEntry {
  return {
    id: state.logEntryId,
    createdAt: state.startedAt,
    requestId: call.requestId,
    apiKeyId: state.key?.id ?? null,
    operatorId: state.key?.operatorId ?? null,
    affiliateId: state.key?.affiliateId ?? null,
    clientIp: state.clientIp || null,
    method: call.method,
    route: call.route,
    operation: state.operation,
    status: call.status,
    errorCode: state.errorCode,
    durationUs: call.durationUs,
  };
}

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

export function callLogOf(state: AccessState, call: Omit<CallRecord, "status" | "durationUs">): CallLog {
  return {
    entry: () => logEntryOf(state, { ...call, status: SUCCESS_STATUS, durationUs: (Date.now() - state.startedAt.getTime()) * 1000 }),
    markRecorded: () => {
      state.recorded = true;
    },
  };
}

/** The checks every API call passes (REST, GraphQL over HTTP, graphql-ws), as the HTTP layer calls them. */
export interface ApiGate {
  readonly clientIps: { resolve(socketAddress: string | undefined, forwardedFor: string | string[] | undefined): string };
  /** Names the key on the state as soon as it is known (so refusals are logged with it), then checks it. */
  admitKey(state: AccessState, secret: string, roles?: readonly ApiKeyRole[]): Promise<unknown>;
  /** Which of these keys are still active (for long-lived WebSocket connections). */
  activeKeyIds(ids: readonly string[]): Promise<Set<string>>;
  record(state: AccessState, call: CallRecord): void;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** How the route is entered; routes without it (health, metrics) are neither checked nor logged. */
    access?: AccessPolicy;
  }
  interface FastifyRequest {
    access: AccessState | null;
  }
}
