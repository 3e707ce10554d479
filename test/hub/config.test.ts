import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { configProblems } from "../helpers/config";
import { spawnHub } from "../helpers/hub-process";

const problemsOf = configProblems;

describe("configuration", () => {
  it("has working defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 4000, host: "0.0.0.0", role: "all", runsApi: true, runsWorker: true, databaseUrl: undefined });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("names every bad variable and why, in one report", () => {
    const problems = problemsOf({ PORT: "abc", HUB_ROLE: "boss", DATABASE_URL: "mysql://x", WORKER_CONCURRENCY: "0" });
    expect(problems).toEqual(
      expect.arrayContaining([
        'PORT must be an integer 1-65535 (or 0 for any free port), got "abc"',
        'HUB_ROLE must be one of all, api, worker, got "boss"',
        'DATABASE_URL must be a postgres:// or postgresql:// URL, got a value that is not shown',
        'WORKER_CONCURRENCY must be an integer 1-100, got "0"',
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it("refuses half a TLS configuration and never echoes the admin secret", () => {
    expect(problemsOf({ TLS_CERT_FILE: "/tmp/cert.pem" })).toEqual([
      "TLS_CERT_FILE and TLS_KEY_FILE must be set together, got only one of them",
    ]);
    const [problem] = problemsOf({ HUB_ADMIN_KEY: "short-secret" });
    expect(problem).toMatch(/^HUB_ADMIN_KEY must be at least 32 characters/);
    expect(problem).not.toContain("short-secret");
  });

  it("has HTTP deadlines and a connection cap by default, the whole-request one derived from the two phases", () => {
    expect(loadConfig({}).http).toEqual({ headersTimeoutMs: 5_000, bodyTimeoutMs: 10_000, requestTimeoutMs: 20_000, keepAliveTimeoutMs: 72_000, maxConnectionsPerIp: 256 });
    expect(loadConfig({ HTTP_HEADERS_TIMEOUT_MS: "2000", HTTP_BODY_TIMEOUT_MS: "30000" }).http.requestTimeoutMs).toBe(37_000);
    expect(loadConfig({ HTTP_MAX_CONNECTIONS_PER_IP: "0" }).http.maxConnectionsPerIp).toBe(0);
    expect(problemsOf({ HTTP_HEADERS_TIMEOUT_MS: "5000", HTTP_BODY_TIMEOUT_MS: "10000", HTTP_REQUEST_TIMEOUT_MS: "12000" })).toEqual([
      "HTTP_REQUEST_TIMEOUT_MS must be at least HTTP_HEADERS_TIMEOUT_MS + HTTP_BODY_TIMEOUT_MS (it bounds the whole request, both phases), got 12000 with 5000 + 10000",
    ]);
    expect(problemsOf({ HTTP_BODY_TIMEOUT_MS: "0", HTTP_MAX_CONNECTIONS_PER_IP: "-1" })).toEqual([
      'HTTP_BODY_TIMEOUT_MS must be an integer 100-3600000, got "0"',
      'HTTP_MAX_CONNECTIONS_PER_IP must be an integer 0-1000000, got "-1"',
    ]);
  });

  it("takes a METRICS_TOKEN only if it is long enough, and never echoes it", () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: "0123456789abcdef0123" }).metricsToken).toBe("0123456789abcdef0123");
    const [short] = problemsOf({ METRICS_TOKEN: "tiny-token" });
    expect(short).toMatch(/^METRICS_TOKEN must be at least 16 characters/);
    expect(short).not.toContain("tiny-token");
    expect(problemsOf({ METRICS_TOKEN: "has a space in it, long enough" })[0]).toMatch(/^METRICS_TOKEN must be printable ASCII without spaces/);
  });

  it("maps roles onto the parts a process runs", () => {
    expect(loadConfig({ HUB_ROLE: "api" })).toMatchObject({ runsApi: true, runsWorker: false });
    expect(loadConfig({ HUB_ROLE: "worker" })).toMatchObject({ runsApi: false, runsWorker: true });
  });

  it("has GraphQL limits with defaults, validated like the rest", () => {
    expect(loadConfig({})).toMatchObject({
      anonymousRateLimitPerMinute: 60,
      graphql: { maxDepth: 10, maxAliases: 30, maxFields: 500, maxCost: 50_000, defaultListSize: 10, executionTimeoutMs: 10_000, resolverConcurrency: 2, introspection: "admin" },
    });
    expect(loadConfig({ INTROSPECTION: "off", GRAPHQL_MAX_COST: "1000" }).graphql).toMatchObject({ introspection: "off", maxCost: 1000 });
    expect(problemsOf({ INTROSPECTION: "yes", GRAPHQL_MAX_DEPTH: "1", ANONYMOUS_RATE_LIMIT_PER_MINUTE: "0" })).toEqual([
      'ANONYMOUS_RATE_LIMIT_PER_MINUTE must be an integer 1-10000000, got "0"',
      'GRAPHQL_MAX_DEPTH must be an integer 2-100, got "1"',
      'INTROSPECTION must be one of admin, any, off, got "yes"',
    ]);
    expect(problemsOf({ DATABASE_POOL_SIZE: "4", GRAPHQL_RESOLVER_CONCURRENCY: "4" })).toEqual([
      "GRAPHQL_RESOLVER_CONCURRENCY must be below DATABASE_POOL_SIZE (one operation must not take every connection), got 4 with a pool of 4",
    ]);
  });

  it("stops the process with exit code 1 and the named error", async () => {
    const hub = spawnHub({ PORT: "abc", LOG_LEVEL: "loud" });
    const { code } = await hub.exited;
    expect(code).toBe(1);
    expect(hub.stderr()).toContain('PORT must be an integer 1-65535 (or 0 for any free port), got "abc"');
    expect(hub.stderr()).toContain('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"');
  });
});
