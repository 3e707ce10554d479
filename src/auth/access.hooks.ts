import type { FastifyInstance, FastifyRequest } from "fastify";
import { UnauthenticatedError, toHubError } from "../common/errors";
import type { Hub } from "../context";
import { createPool } from "../db/database";
import { newAccessState, type AccessPolicy, type AccessState } from "../http/access";
import { AccessGate } from "./access-gate";
import { ClientIpResolver } from "./client-ip";
import { apiKeyFromHeaders, apiKeyFromQuery } from "./credentials";
import { RateLimits } from "./rate-limit";
import { UsageRecorder } from "./usage-recorder";

export interface AccessControl {
  readonly gate: AccessGate;
  /** Writes what the recorder still holds and closes the gate's pool: after the HTTP server has drained. */
  close(): Promise<void>;
}

/** Connections for key lookups, rate-limit counters and the request log, apart from the ORM's. */
const ACCESS_POOL_MAX = 8;

/**
 * Installs the access checks and the request log on every route that declares an
 * `access` policy. The checks run in onRequest, before any body is read, so an
 * unauthenticated caller cannot make the server parse 64 KiB. Each call is logged once,
 * when its response closes.
 */
export function installAccessControl(app: FastifyInstance, hub: Hub, databaseUrl: string): AccessControl {
  const pool = createPool(withAsyncCommit(databaseUrl), Math.min(ACCESS_POOL_MAX, hub.config.databasePoolSize), hub.log, "access");
  const recorder = new UsageRecorder(pool, hub.log.child({ component: "usage" }), hub.metrics, hub.config.requestLogFlushIntervalMs);
  const gate = new AccessGate(pool, new RateLimits(pool, hub.config.defaultRateLimitPerMinute, hub.config.clickRateLimitPerMinute, hub.config.anonymousRateLimitPerMinute), recorder, new ClientIpResolver(hub.config.trustedProxies));
  recorder.start();

  app.decorateRequest("access", null);

  app.addHook("onRequest", async (request, reply) => {
    const policy = request.routeOptions.config.access;
    if (!policy) return;
    const state = newAccessState(gate.clientIps.resolve(request.socket.remoteAddress, request.headers["x-forwarded-for"]));
    request.access = state;
    const started = process.hrtime.bigint();
    const admission = admit(gate, policy, request, state);
    // 'close' always comes, also when the client hangs up before its answer (no onResponse
    // then): that call is logged as 499, like nginx does, once the checks under way have
    // named its key. Its work may still complete; a postback's conversion carries the requestId.
    reply.raw.once("close", () => {
      const finished = reply.raw.writableFinished;
      const durationUs = Number((process.hrtime.bigint() - started) / 1000n);
      // (A refused admission is answered and logged like any other error response.)
      void admission.catch(() => undefined).then(() => {
        if (!finished) state.errorCode = CLIENT_CLOSED_REQUEST;
        gate.record(state, {
          requestId: request.id,
          method: request.method,
          route: routeOf(request),
          status: finished ? reply.raw.statusCode : CLIENT_CLOSED_STATUS,
          durationUs,
        });
      });
    });
    await admission;
  });

  app.addHook("onSend", async (request, reply, payload) => {
    const state = request.access;
    if (state && state.errorCode === null && reply.statusCode >= 400) state.errorCode = errorCodeOf(payload);
    return payload;
  });

  return {
    gate,
    close: async () => {
      try {
        await recorder.close();
      } finally {
        await pool.end();
      }
    },
  };
}

/**
 * Rate-limit counters, log rows and last-use times may lose their last few milliseconds
 * in a database crash; that is not worth an fsync wait on every request. (Visibility to
 * other processes is immediate either way.) Set as a startup parameter of each connection.
 */
function withAsyncCommit(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const options = url.searchParams.get("options");
  url.searchParams.set("options", `${options ? `${options} ` : ""}-c synchronous_commit=off`);
  return url.toString();
}

/** Public routes spend the client IP's budget; key routes pass the gate (or, for GraphQL, note its refusal). */
async function admit(gate: AccessGate, policy: AccessPolicy, request: FastifyRequest, state: AccessState): Promise<void> {
  if (policy.kind === "public") {
    await gate.admitPublic(state.clientIp);
    return;
  }
  try {
    const secret = apiKeyFromHeaders(request.headers) ?? (policy.queryKey ? apiKeyFromQuery(request.url) : undefined);
    if (secret === undefined) {
      if (policy.requireKey) {
        throw new UnauthenticatedError("An API key is required (X-Api-Key header, Authorization: Bearer, or api_key query parameter)", "MISSING_API_KEY");
      }
      if (policy.anonymousBudget) await gate.admitAnonymous(state.clientIp);
      return;
    }
    await gate.admitKey(state, secret, policy.roles);
  } catch (error: unknown) {
    const refusal = toHubError(error);
    if (!refusal || !policy.deferRefusal) throw error;
    state.refusal = refusal;
    state.errorCode = refusal.code;
  }
}

const CLIENT_CLOSED_STATUS = 499;
const CLIENT_CLOSED_REQUEST = "CLIENT_CLOSED_REQUEST";

function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? request.url.split("?")[0]!;
}

/** REST errors are `{"error":{"code":…}}`; read the code back for the log (error responses only). */
function errorCodeOf(payload: unknown): string | null {
  if (typeof payload !== "string" || !payload.startsWith('{"error"')) return null;
  try {
    const code = (JSON.parse(payload) as { error?: { code?: unknown } }).error?.code;
    return typeof code === "string" ? code : null;
  } catch {
    return null;
  }
}
