import type pg from "pg";
import { ForbiddenError, UnauthenticatedError } from "../common/errors";
import type { ClientIpResolver } from "./client-ip";
import { AllowlistChecker } from "./ip-allowlist";
import { lookupActiveKey, viewerOfRecord, type KeyRecord } from "./key-store";
import type { RateLimits } from "./rate-limit";
import type { UsageRecorder } from "./usage-recorder";
import type { ApiKeyRole } from "../common/viewer";
import { logEntryOf, type AccessState, type ApiGate, type CallRecord } from "../http/access";

/**
 * The checks every API call passes, in one place for REST, GraphQL over HTTP and
 * graphql-ws: the key is known and active (401), may call this (403 FORBIDDEN), comes
 * from an allowed address (403 IP_NOT_ALLOWED), and is within its budget (429).
 */
export class AccessGate implements ApiGate {
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
    if (!key) throw new UnauthenticatedError("The API key is unknown or revoked", "INVALID_API_KEY");
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

  record(state: AccessState, call: CallRecord): void {
    if (state.recorded) return;
    state.recorded = true;
    this.recorder.record(logEntryOf(state, call));
  }
}

/** The key record the gate put on a call's state (routes behind a key policy only). */
export function admittedKey(state: AccessState | null): KeyRecord {
  const key = state?.key;
  if (!key) throw new UnauthenticatedError();
  return key as KeyRecord;
}
