import type pg from "pg";
import { ForbiddenError, UnauthenticatedError, type HubError } from "../common/errors";
import { newId } from "../common/ids";
import type { ApiKeyRole } from "./api-key.entity";
import type { ClientIpResolver } from "./client-ip";
import { AllowlistChecker } from "./ip-allowlist";
import { lookupActiveKey, viewerOfRecord, type KeyRecord } from "./key-store";
import type { RateLimits } from "./rate-limit";
import type { UsageRecorder } from "./usage-recorder";
import { ANONYMOUS, type Viewer } from "./viewer";

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

/** One request's (or WebSocket operation's) access facts, filled in as it goes, logged at the end. */
export interface AccessState {
  readonly startedAt: Date;
  readonly clientIp: string;
  key: KeyRecord | null;
  viewer: Viewer;
  /** A refusal the route renders itself (deferRefusal). */
  refusal: HubError | null;
  operation: string | null;
  errorCode: string | null;
  /** Set once the entry is in the log, so a call is never logged twice. */
  recorded: boolean;
}

export function newAccessState(clientIp: string): AccessState {
  return { startedAt: new Date(), clientIp, key: null, viewer: ANONYMOUS, refusal: null, operation: null, errorCode: null, recorded: false };
}

/**
 * The checks every API call passes, in one place for REST, GraphQL over HTTP and
 * graphql-ws: the key is known and active (401), may call this (403 FORBIDDEN), comes
 * from an allowed address (403 IP_NOT_ALLOWED), and is within its budget (429).
 */
export class AccessGate {
  private readonly allowlists = new AllowlistChecker();

  constructor(
    private readonly pool: pg.Pool,
    readonly rateLimits: RateLimits,
    readonly recorder: UsageRecorder,
    readonly clientIps: ClientIpResolver,
  ) {}

  /** Names the key on the state as soon as it is known (so refusals are logged with it), then checks it. */
  async admitKey(state: AccessState, secret: string, roles?: readonly ApiKeyRole[]): Promise<KeyRecord> {
    const key = await lookupActiveKey(this.pool, secret);
    if (!key) throw new UnauthenticatedError("INVALID_API_KEY", "The API key is unknown or revoked");
    state.key = key;
    state.viewer = viewerOfRecord(key);
    this.recorder.touchKey(key.id, new Date());
    if (!this.allowlists.allowed(state.clientIp, key.allowedIps)) {
      throw new ForbiddenError(`This API key may not be used from ${state.clientIp}`, "IP_NOT_ALLOWED");
    }
    if (roles && !roles.includes(key.role)) {
      throw new ForbiddenError(`This endpoint needs a key with one of the roles: ${roles.join(", ")}`);
    }
    await this.rateLimits.consumeKey(key.id, key.rateLimitPerMinute);
    return key;
  }

  async admitPublic(clientIp: string): Promise<void> {
    await this.rateLimits.consumeClick(clientIp);
  }

  /** A call without a key, on a route that allows that: the client IP's budget. */
  async admitAnonymous(clientIp: string): Promise<void> {
    await this.rateLimits.consumeAnonymous(clientIp);
  }

  /** Which of these keys are still active (for long-lived WebSocket connections). */
  async activeKeyIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await this.pool.query<{ id: string }>("select id from api_key where id = any($1::uuid[]) and revoked_at is null", [ids]);
    return new Set(rows.map((row) => row.id));
  }

  record(state: AccessState, call: { requestId: string; method: string; route: string; status: number; durationUs: number }): void {
    if (state.recorded) return;
    state.recorded = true;
    this.recorder.record({
      id: newId(),
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
    });
  }
}
