import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ApiKeysDocument, RequestLogDocument, RevokeApiKeyDocument } from "../generated/graphql";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { graphql, graphqlOk, subscribe, wsClient } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { createKey, createOperator, getPostback, type OperatorFixture } from "../helpers/inbound";
import { waitFor } from "../helpers/wait-for";
import { enqueueJob } from "../../src/jobs/enqueue";
import { cronOf } from "../../src/feature";
import { FEATURES } from "../../src/features";

const HUB_QUERY = "query WhoAmI { hub { role } }";

let direct: TestHub;
let proxied: TestHub;
let operator: OperatorFixture;

beforeAll(async () => {
  direct = await startTestHub({ env: { REQUEST_LOG_FLUSH_INTERVAL_MS: "50" } });
  // A second hub on the same database that trusts a proxy on loopback.
  proxied = await startTestHub({ db: direct.db, env: { TRUST_PROXY: "127.0.0.1/32, ::1", REQUEST_LOG_FLUSH_INTERVAL_MS: "50" } });
  operator = await createOperator(direct);
});
afterAll(async () => {
  await proxied?.stop();
  await direct?.stop();
});

describe("IP allowlist", () => {
  it("without TRUST_PROXY uses the socket address and ignores X-Forwarded-For", async () => {
    const fenced = await createKey(direct, { role: "ADMIN", allowedIps: ["203.0.113.0/24"] });
    const spoofed = await graphql(direct.graphqlUrl, HUB_QUERY, { apiKey: fenced.secret, headers: { "x-forwarded-for": "203.0.113.9" } });
    expect(spoofed.status).toBe(403);
    expect(spoofed.errors?.[0]?.extensions?.code).toBe("IP_NOT_ALLOWED");
    const loopback = await createKey(direct, { role: "ADMIN", allowedIps: ["127.0.0.1"] });
    expect((await graphql(direct.graphqlUrl, HUB_QUERY, { apiKey: loopback.secret })).errors).toBeUndefined();
  });

  it("with TRUST_PROXY believes X-Forwarded-For from the trusted proxy only, IPv4 and IPv6", async () => {
    const fenced = await createKey(direct, { role: "ADMIN", allowedIps: ["203.0.113.0/24", "2001:db8::/32"] });
    const call = (forwardedFor?: string) =>
      graphql(proxied.graphqlUrl, HUB_QUERY, { apiKey: fenced.secret, headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {} });
    expect((await call("203.0.113.9")).errors).toBeUndefined();
    expect((await call("2001:db8::5")).errors).toBeUndefined();
    // The proxy appends the address it saw: a client's own first entry is not believed.
    expect((await call("203.0.113.9, 198.51.100.1")).errors?.[0]?.extensions?.code).toBe("IP_NOT_ALLOWED");
    expect((await call("198.51.100.1")).errors?.[0]?.extensions?.code).toBe("IP_NOT_ALLOWED");
    expect((await call()).errors?.[0]?.extensions?.code).toBe("IP_NOT_ALLOWED");

    // REST too: the same key on /postback (an operator key) from a forwarded, allowed address.
    const operatorKey = await createKey(direct, { role: "OPERATOR", operatorId: operator.operatorId, allowedIps: ["203.0.113.0/24"] });
    const send = (forwardedFor: string) =>
      getPostback(proxied.urls.http, { click_id: `ip-${forwardedFor}-${Date.now()}`, event: "registration" }, {
        apiKey: operatorKey.secret,
        secret: operator.postbackSecret,
        headers: { "x-forwarded-for": forwardedFor },
      });
    expect((await send("203.0.113.77")).status).toBe(200);
    const refused = await send("192.0.2.1");
    expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 403, code: "IP_NOT_ALLOWED" });
  });

  it("applies TRUST_PROXY to graphql-ws connections too", async () => {
    const fenced = await createKey(direct, { role: "ADMIN", allowedIps: ["203.0.113.0/24"] });
    const forwardedFrom = (address: string) =>
      class extends WebSocket {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols, { headers: { "x-forwarded-for": address } });
        }
      };
    const allowed = wsClient(proxied.websocketUrl, fenced.secret, { webSocketImpl: forwardedFrom("203.0.113.50") });
    try {
      const ticks = subscribe<{ heartbeat: { role: string } }>(allowed, "subscription ForwardedTick { heartbeat(intervalMs: 100) { role } }");
      await ticks.waitFor((events) => events.length >= 1);
      ticks.dispose();
    } finally {
      await allowed.dispose();
    }
    const closed = new Promise<number>((resolve) => {
      const refused = wsClient(proxied.websocketUrl, fenced.secret, {
        webSocketImpl: forwardedFrom("198.51.100.50"),
        on: { closed: (event) => resolve((event as { code: number }).code) },
      });
      subscribe(refused, "subscription { heartbeat { role } }");
    });
    expect(await closed).toBe(4403);
    const logged = await waitFor(
      async () => {
        const { rows } = await direct.db.query<{ operation: string; status: number; error_code: string | null; client_ip: string }>(
          "select operation, status, error_code, client_ip from request_log where method = 'WS' and api_key_id = $1 order by created_at",
          [fenced.id],
        );
        return rows.length >= 3 ? rows : undefined;
      },
      { what: "the WebSocket calls in the request log" },
    );
    expect(logged).toEqual(
      expect.arrayContaining([
        { operation: "connection_init", status: 200, error_code: null, client_ip: "203.0.113.50" },
        { operation: "ForwardedTick", status: 200, error_code: null, client_ip: "203.0.113.50" },
        { operation: "connection_init", status: 403, error_code: "IP_NOT_ALLOWED", client_ip: "198.51.100.50" },
      ]),
    );
  });

  it("refuses a graphql-ws connection from outside the allowlist", async () => {
    const fenced = await createKey(direct, { role: "ADMIN", allowedIps: ["203.0.113.0/24"] });
    const closed = new Promise<number>((resolve) => {
      const client = wsClient(direct.websocketUrl, fenced.secret, { on: { closed: (event) => resolve((event as { code: number }).code) } });
      subscribe(client, "subscription { heartbeat { role } }");
    });
    expect(await closed).toBe(4403);
  });
});

describe("GraphQL passes the same gate as REST", () => {
  it("rate-limits per key with 429 and Retry-After", async () => {
    const limited = await createKey(direct, { role: "ADMIN", rateLimitPerMinute: 2 });
    for (let i = 0; i < 2; i++) expect((await graphql(direct.graphqlUrl, HUB_QUERY, { apiKey: limited.secret })).errors).toBeUndefined();
    const response = await fetch(direct.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": limited.secret },
      body: JSON.stringify({ query: HUB_QUERY }),
    });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]!.extensions.code).toBe("RATE_LIMITED");
  });

  it("stops a revoked key at once, over HTTP and for new WebSocket operations", async () => {
    const key = await createKey(direct, { role: "ADMIN" });
    const client = wsClient(direct.websocketUrl, key.secret);
    try {
      // Held open, so the connection stays up and the next operation travels on it.
      const first = subscribe<{ heartbeat: { role: string } }>(client, "subscription { heartbeat(intervalMs: 100) { role } }");
      await first.waitFor((events) => events.length >= 1);
      await graphqlOk(direct.graphqlUrl, RevokeApiKeyDocument, { apiKey: direct.adminKey, variables: { id: key.id } });
      const http = await graphql(direct.graphqlUrl, HUB_QUERY, { apiKey: key.secret });
      expect({ status: http.status, code: http.errors?.[0]?.extensions?.code }).toEqual({ status: 401, code: "INVALID_API_KEY" });
      // Either the operation is refused by the gate, or the live layer has already closed
      // the revoked key's connection (4401): no new operation runs either way.
      const second = subscribe(client, "subscription { heartbeat(intervalMs: 100) { role } }");
      await waitFor(() => second.error, { what: "the second subscription to be refused" });
      const failure = second.error as { code?: number } | Array<{ extensions?: { code?: string } }>;
      const refused = Array.isArray(failure) ? failure[0]?.extensions?.code === "INVALID_API_KEY" : failure.code === 4401;
      expect(refused, JSON.stringify(failure)).toBe(true);
      expect(second.events).toEqual([]);
      first.dispose();
    } finally {
      await client.dispose();
    }
  });
});

describe("request log", () => {
  it("records REST and GraphQL calls: key, tenant, client IP, route or operation, status, error code, duration", async () => {
    const marker = `log-${Date.now()}`;
    await getPostback(direct.urls.http, { click_id: marker, event: "registration" }, { apiKey: operator.apiKey, secret: operator.postbackSecret });
    await getPostback(direct.urls.http, { click_id: marker, event: "registration" }, { apiKey: operator.apiKey });
    await graphql(direct.graphqlUrl, "query OperatorPeeksAtKeys { requestLog(filter: { operatorId: \"00000000-0000-7000-8000-000000000000\" }) { nodes { id } } }", { apiKey: operator.apiKey });
    await graphql(direct.graphqlUrl, "{ hub { role } }", { apiKey: direct.adminKey });
    await graphql(proxied.graphqlUrl, HUB_QUERY, { apiKey: direct.adminKey, headers: { "x-forwarded-for": "198.51.100.23" } });

    const entries = await waitFor(
      async () => {
        const log = await graphqlOk(direct.graphqlUrl, RequestLogDocument, { apiKey: direct.adminKey, variables: { first: 200 } });
        const nodes = log.requestLog.nodes;
        const wanted = [
          nodes.find((n) => n.route === "/postback" && n.errorCode === null && n.operatorId === operator.operatorId),
          nodes.find((n) => n.route === "/postback" && n.errorCode === "MISSING_SIGNATURE"),
          nodes.find((n) => n.operation === "OperatorPeeksAtKeys"),
          nodes.find((n) => n.operation === "query hub"),
          nodes.find((n) => n.operation === "WhoAmI" && n.clientIp === "198.51.100.23"),
        ];
        return wanted.every(Boolean) ? wanted : undefined;
      },
      { what: "the calls in the request log", timeoutMs: 20_000 },
    );
    const [accepted, unsigned, forbidden, anonymousOperation, forwarded] = entries;
    expect(accepted).toMatchObject({ method: "GET", status: 200, apiKeyId: operator.apiKeyId, operatorId: operator.operatorId, affiliateId: null, clientIp: "127.0.0.1" });
    expect(accepted!.durationMs).toBeGreaterThan(0);
    expect(unsigned).toMatchObject({ status: 401, apiKeyId: operator.apiKeyId });
    // A GraphQL error answered with 200 still carries its code.
    expect(forbidden).toMatchObject({ route: "/graphql", method: "POST", status: 200, errorCode: "FORBIDDEN", operatorId: operator.operatorId });
    expect(anonymousOperation).toMatchObject({ status: 200, errorCode: null });
    expect(forwarded).toMatchObject({ status: 200 });
  });

  it("lets an operator read only its own entries", async () => {
    const mine = await graphqlOk(direct.graphqlUrl, RequestLogDocument, { apiKey: operator.apiKey, variables: { first: 500 } });
    expect(mine.requestLog.nodes.length).toBeGreaterThan(0);
    expect(mine.requestLog.nodes.every((node) => node.operatorId === operator.operatorId)).toBe(true);
    const other = await createOperator(direct);
    const foreign = await graphql(direct.graphqlUrl, RequestLogDocument, { apiKey: operator.apiKey, variables: { filter: { operatorId: other.operatorId } } });
    expect(foreign.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("records a key's last use without a write per request", async () => {
    const key = await createKey(direct, { role: "ADMIN" });
    const before = await direct.db.query<{ last_used_at: Date | null }>("select last_used_at from api_key where id = $1", [key.id]);
    expect(before.rows[0]!.last_used_at).toBeNull();
    const usedAt = Date.now();
    await graphql(direct.graphqlUrl, HUB_QUERY, { apiKey: key.secret });
    const { apiKeys } = await waitFor(
      async () => {
        const result = await graphqlOk(direct.graphqlUrl, ApiKeysDocument, { apiKey: direct.adminKey, variables: { first: 500 } });
        return result.apiKeys.nodes.find((k) => k.id === key.id)?.lastUsedAt ? result : undefined;
      },
      { what: "lastUsedAt to be written" },
    );
    expect(Date.parse(apiKeys.nodes.find((k) => k.id === key.id)!.lastUsedAt!)).toBeGreaterThanOrEqual(usedAt - 1_000);
  });
});

describe("request log durability and retention", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("writes what is buffered on graceful shutdown", async () => {
    // A flush interval far beyond the test: only the shutdown flush can write these.
    const hub = await startTestHub({ db, env: { REQUEST_LOG_FLUSH_INTERVAL_MS: "600000" } });
    const calls = 7;
    for (let i = 0; i < calls; i++) await graphql(hub.graphqlUrl, `query Durable${i} { hub { role } }`, { apiKey: hub.adminKey });
    const before = await db.query<{ n: number }>("select count(*)::int as n from request_log where operation like 'Durable%'");
    expect(before.rows[0]!.n).toBe(0);
    await hub.stop();
    const after = await db.query<{ n: number }>("select count(*)::int as n from request_log where operation like 'Durable%'");
    expect(after.rows[0]!.n).toBe(calls);
  });

  it("prunes entries older than REQUEST_LOG_RETENTION_DAYS, and expired rate-limit windows, on schedule", async () => {
    expect(cronOf(FEATURES).map((item) => item.task).sort()).toEqual(["rate_limit__prune", "request_log__prune"]);
    const hub = await startTestHub({ db, env: { REQUEST_LOG_RETENTION_DAYS: "30" } });
    try {
      await db.query(
        `insert into request_log (id, created_at, request_id, method, route, status, duration_us)
         values (gen_random_uuid(), now() - interval '31 days', 'old', 'GET', '/old', 200, 1),
                (gen_random_uuid(), now() - interval '29 days', 'recent', 'GET', '/recent', 200, 1)`,
      );
      await db.query("insert into rate_limit (key, points, expire) values ('key:stale', 1, $1), ('key:live', 1, $2)", [Date.now() - 7_200_000, Date.now() + 60_000]);
      const em = hub.hub.orm.em.fork();
      await em.transactional(async (tx) => {
        await enqueueJob(tx, "request_log__prune", {});
        await enqueueJob(tx, "rate_limit__prune", {});
      });
      await waitFor(
        async () => {
          const { rows } = await db.query<{ old: number; stale: number; jobs: number }>(
            `select (select count(*)::int from request_log where request_id = 'old') as old,
                    (select count(*)::int from rate_limit where key = 'key:stale') as stale,
                    (select count(*)::int from graphile_worker.jobs) as jobs`,
          );
          return rows[0]!.old === 0 && rows[0]!.stale === 0 && rows[0]!.jobs === 0;
        },
        { what: "the prune jobs to run", timeoutMs: 30_000 },
      );
      const { rows } = await db.query<{ recent: number; live: number }>(
        "select (select count(*)::int from request_log where request_id = 'recent') as recent, (select count(*)::int from rate_limit where key = 'key:live') as live",
      );
      expect(rows[0]).toEqual({ recent: 1, live: 1 });
    } finally {
      await hub.stop();
    }
  });
});
