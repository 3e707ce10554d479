import path from "node:path";
import { z } from "zod";
import { normalizeCidr } from "./common/ip-ranges";
import { parseRetrySchedule, RetryScheduleError } from "./common/retry-delays";

/**
 * The only reader of the environment. Every variable is validated once at start;
 * all problems are reported together so an operator fixes them in one pass.
 */

export const HUB_ROLES = ["all", "api", "worker"] as const;
export type HubRole = (typeof HUB_ROLES)[number];
/** Who may run GraphQL introspection (`__schema`, `__type`); `__typename` is always allowed. */
export const INTROSPECTION_MODES = ["admin", "any", "off"] as const;
export type IntrospectionMode = (typeof INTROSPECTION_MODES)[number];
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

function integer(min: number, max: number) {
  return z.string().trim().regex(/^-?\d+$/, `must be an integer ${min}-${max}`)
    .transform(Number)
    .refine((n) => Number.isSafeInteger(n) && n >= min && n <= max, `must be an integer ${min}-${max}`);
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(", ")}` });
}

const port = z.string().trim()
  .regex(/^\d+$/, "must be an integer 1-65535 (or 0 for any free port)")
  .transform(Number)
  .refine((n) => n >= 0 && n <= 65535, "must be an integer 1-65535 (or 0 for any free port)");

const booleanFlag = z.enum(["true", "false", "1", "0"], { error: "must be true or false" })
  .transform((value) => value === "true" || value === "1");

const nonEmpty = z.string().trim().min(1, "must not be empty");

const postgresUrl = nonEmpty.refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === "postgres:" || url.protocol === "postgresql:";
  } catch {
    return false;
  }
}, "must be a postgres:// or postgresql:// URL");

const adminKey = z.string().min(32, "must be at least 32 characters (generate one with `openssl rand -base64 32`)");

const encryptionKey = z.string().refine(
  (value) => Buffer.from(value.trim(), "base64").length === 32,
  "must be 32 random bytes in base64 (generate one with `openssl rand -base64 32`)",
);

/** `10.0.0.0/8, ::1` → normalised CIDRs; a bare address means just that host. */
const cidrList = z.string().transform((value, context) => {
  const cidrs: string[] = [];
  for (const entry of value.split(",").map((part) => part.trim()).filter((part) => part !== "")) {
    const cidr = normalizeCidr(entry);
    if (!cidr) {
      context.addIssue({ code: "custom", message: `must be a comma-separated list of IP addresses or CIDRs (bad entry ${JSON.stringify(entry)})` });
      return z.NEVER;
    }
    cidrs.push(cidr);
  }
  return cidrs;
});

/** A bearer token for scrapers: long enough not to be guessed, and sendable in a header as is. */
const metricsToken = z.string().trim()
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces")
  .min(16, "must be at least 16 characters (generate one with `openssl rand -hex 24`)");

const retrySchedule = z.string().transform((value, ctx) => {
  try {
    return parseRetrySchedule(value);
  } catch (error) {
    if (!(error instanceof RetryScheduleError)) throw error;
    ctx.addIssue({ code: "custom", message: error.message });
    return z.NEVER;
  }
});

export const DEFAULT_RETRY_SCHEDULE = "30s,2m,10m,1h,2h,3h,3h,3h,3h,4h,4h";
/** The most attempts one endpoint may have in flight, whoever sets it (WORKER_CONCURRENCY's own maximum). */
export const MAX_IN_FLIGHT_PER_ENDPOINT = 100;

const envSchema = z.object({
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_SIZE: integer(2, 200).default(10),
  DATA_DIR: nonEmpty.default(".data"),
  HOST: nonEmpty.default("0.0.0.0"),
  PORT: port.default(4000),
  HUB_ROLE: oneOf(HUB_ROLES).default("all"),
  LOG_LEVEL: oneOf(LOG_LEVELS).default("info"),
  TLS_CERT_FILE: nonEmpty.optional(),
  TLS_KEY_FILE: nonEmpty.optional(),
  HUB_ADMIN_KEY: adminKey.optional(),
  HUB_ENCRYPTION_KEY: encryptionKey.optional(),
  SHUTDOWN_TIMEOUT_MS: integer(100, 600_000).default(15_000),
  WORKER_CONCURRENCY: integer(1, 100).default(10),
  WORKER_POLL_INTERVAL_MS: integer(50, 60_000).default(2_000),
  MIGRATE_ON_START: booleanFlag.default(true),
  TRUST_PROXY: cidrList.default([]),
  RATE_LIMIT_PER_MINUTE: integer(1, 10_000_000).default(6_000),
  CLICK_RATE_LIMIT_PER_MINUTE: integer(1, 10_000_000).default(120),
  ANONYMOUS_RATE_LIMIT_PER_MINUTE: integer(1, 10_000_000).default(60),
  POSTBACK_TIMESTAMP_TOLERANCE_SECONDS: integer(1, 86_400).default(300),
  REQUEST_LOG_RETENTION_DAYS: integer(1, 3_650).default(90),
  REQUEST_LOG_FLUSH_INTERVAL_MS: integer(10, 600_000).default(1_000),
  // HTTP connections: how long a client may take to send a request, and how many sockets one address may hold
  HTTP_HEADERS_TIMEOUT_MS: integer(100, 600_000).default(5_000),
  HTTP_BODY_TIMEOUT_MS: integer(100, 3_600_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: integer(100, 3_600_000).optional(),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: integer(100, 3_600_000).default(72_000),
  HTTP_MAX_CONNECTIONS_PER_IP: integer(0, 1_000_000).default(256),
  METRICS_TOKEN: metricsToken.optional(),
  // GraphQL: limits checked before an operation runs, and its execution budget
  GRAPHQL_MAX_DEPTH: integer(2, 100).default(10),
  GRAPHQL_MAX_ALIASES: integer(0, 10_000).default(30),
  GRAPHQL_MAX_FIELDS: integer(10, 100_000).default(500),
  GRAPHQL_MAX_COST: integer(10, 100_000_000).default(50_000),
  GRAPHQL_DEFAULT_LIST_SIZE: integer(1, 10_000).default(10),
  GRAPHQL_EXECUTION_TIMEOUT_MS: integer(100, 600_000).default(10_000),
  GRAPHQL_RESOLVER_CONCURRENCY: integer(1, 100).default(2),
  INTROSPECTION: oneOf(INTROSPECTION_MODES).default("admin"),
  // live: graphql-ws and the LISTEN/NOTIFY bridge
  WS_KEEPALIVE_MS: integer(100, 600_000).default(15_000),
  WS_MAX_BUFFERED_BYTES: integer(16_384, 1_073_741_824).default(1_048_576),
  WS_MAX_QUEUED_EVENTS: integer(1, 1_000_000).default(10_000),
  WS_MAX_SUBSCRIPTIONS: integer(1, 10_000).default(100),
  QUEUE_DEPTH_PUSH_INTERVAL_MS: integer(50, 600_000).default(1_000),
  WEBHOOK_TIMEOUT_MS: integer(100, 120_000).default(10_000),
  WEBHOOK_RETRY_SCHEDULE: retrySchedule.default(parseRetrySchedule(DEFAULT_RETRY_SCHEDULE)),
  WEBHOOK_ALLOW_PRIVATE_TARGETS: booleanFlag.default(false),
  WEBHOOK_DISABLE_AFTER_HOURS: integer(1, 8_760).default(120),
  WEBHOOK_SECRET_MAX_AGE_DAYS: integer(1, 3_650).default(90),
  WEBHOOK_LEASE_MS: integer(1_000, 3_600_000).optional(),
  WEBHOOK_SWEEP_INTERVAL_MS: integer(100, 600_000).default(5_000),
  WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: integer(1, MAX_IN_FLIGHT_PER_ENDPOINT).default(4),
  QUEUE_DEPTH_ALERT_THRESHOLD: integer(1, 100_000_000).default(100),
  QUEUE_SAMPLE_INTERVAL_MS: integer(100, 600_000).default(1_000),
});

type ParsedEnv = z.infer<typeof envSchema>;

export interface HubConfig {
  readonly databaseUrl: string | undefined;
  readonly databasePoolSize: number;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly role: HubRole;
  readonly runsApi: boolean;
  readonly runsWorker: boolean;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly adminKey: string | undefined;
  /** Base64 of 32 bytes; unset: a key file in DATA_DIR, created on first start. */
  readonly encryptionKey: string | undefined;
  readonly shutdownTimeoutMs: number;
  readonly workerConcurrency: number;
  readonly workerPollIntervalMs: number;
  readonly migrateOnStart: boolean;
  /** CIDRs of reverse proxies whose X-Forwarded-For is believed; empty: the socket address is the client. */
  readonly trustedProxies: readonly string[];
  /** Requests per minute for an API key without its own limit. */
  readonly defaultRateLimitPerMinute: number;
  /** Requests per minute per client IP on the public click redirect. */
  readonly clickRateLimitPerMinute: number;
  /** GraphQL requests per minute per client IP without an API key. */
  readonly anonymousRateLimitPerMinute: number;
  /** How far a signed postback's timestamp may be from now, either way. */
  readonly postbackTimestampToleranceSeconds: number;
  readonly requestLogRetentionDays: number;
  /** How often buffered request-log entries and key last-use times are written. */
  readonly requestLogFlushIntervalMs: number;
  /** Deadlines for receiving requests and the per-address connection cap (src/http/). */
  readonly http: HttpConfig;
  /** When set, /metrics answers only `Authorization: Bearer <token>`; unset, it is open. */
  readonly metricsToken: string | undefined;
  /** GraphQL over HTTP and graphql-ws (src/http/graphql-limits.ts, operation-guard.ts). */
  readonly graphql: GraphqlConfig;
  /** Live layer (src/live, src/http/websocket.ts). */
  readonly live: LiveConfig;
  readonly webhooks: WebhookConfig;
  readonly queueDepthAlertThreshold: number;
  /** How often worker processes compact queue counters and re-evaluate alerts. */
  readonly queueSampleIntervalMs: number;
}

export interface HttpConfig {
  /** A request's headers must have arrived this long after its first byte (a TLS handshake, and a new connection's silence, end within it too). */
  readonly headersTimeoutMs: number;
  /** A body must have arrived this long after the hub starts reading it; past it: 408 REQUEST_TIMEOUT. */
  readonly bodyTimeoutMs: number;
  /** Backstop: every byte of a request (headers and body, read or not) must have arrived this long after its first. Answering takes as long as it takes. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** Open connections one client address may hold in this process; 0: no cap. Trusted proxies are not capped. */
  readonly maxConnectionsPerIp: number;
}

export interface GraphqlConfig {
  /** Nested field levels (introspection's `ofType` chains do not count). */
  readonly maxDepth: number;
  /** Aliased fields in one document. */
  readonly maxAliases: number;
  /** Field selections in one document, as written. */
  readonly maxFields: number;
  /** Estimated field resolutions: list fields multiply what they select by `first` (or defaultListSize). */
  readonly maxCost: number;
  /** The length the cost estimate assumes for a list without a `first` argument. */
  readonly defaultListSize: number;
  /** A query or mutation still resolving after this is stopped (a running mutation resolver finishes). */
  readonly executionTimeoutMs: number;
  /** Object-typed fields one operation resolves at once, so one operation cannot take the whole database pool. */
  readonly resolverConcurrency: number;
  readonly introspection: IntrospectionMode;
}

export interface LiveConfig {
  /** A WebSocket that does not answer a ping within this long is terminated. */
  readonly keepAliveMs: number;
  /** Bytes a socket may have waiting to be sent before it is closed as too slow. */
  readonly maxBufferedBytes: number;
  /** Events one connection (all its subscriptions) may have waiting before it is closed as too slow. */
  readonly maxQueuedEvents: number;
  /** Operations one connection may run at once. */
  readonly maxSubscriptionsPerConnection: number;
  /** State subscriptions (queue depth) push at most once per this interval; the worker samples at it too. */
  readonly statePushIntervalMs: number;
}

export interface WebhookConfig {
  /** A 2xx must arrive within this; otherwise the attempt fails as a timeout. */
  readonly timeoutMs: number;
  /** Delays before each retry, in ms; attempts per series = length + 1. */
  readonly retryScheduleMs: readonly number[];
  /** Tests and local setups: allow http and private/loopback targets. */
  readonly allowPrivateTargets: boolean;
  readonly disableAfterHours: number;
  readonly secretMaxAgeDays: number;
  /** How long a worker owns a delivery it is attempting; a crashed worker's delivery is retried after it. */
  readonly leaseMs: number;
  /** How often worker processes look for deliveries whose lease expired. */
  readonly sweepIntervalMs: number;
  /**
   * Attempts one endpoint may have in flight at once, across all worker processes, unless
   * the endpoint sets its own maxInFlight. Operator and affiliate keys may only lower it.
   */
  readonly maxInFlightPerEndpoint: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const SECRET_VARIABLES = new Set(["HUB_ADMIN_KEY", "HUB_ENCRYPTION_KEY", "DATABASE_URL", "METRICS_TOKEN"]);

function describeInput(input: unknown): string {
  return input === undefined ? "nothing" : JSON.stringify(input);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  // Empty variables count as unset, the way shells and .env files usually mean them.
  const present = Object.fromEntries(
    Object.keys(envSchema.shape)
      .map((name) => [name, env[name]] as const)
      .filter(([, value]) => value !== undefined && value !== ""),
  );
  const result = envSchema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      const shown = SECRET_VARIABLES.has(name) ? "a value that is not shown" : describeInput(present[name]);
      return `${name} ${issue.message}, got ${shown}`;
    });
    throw new ConfigError(problems);
  }
  const parsed = result.data;
  const problems = crossFieldProblems(parsed);
  if (problems.length > 0) throw new ConfigError(problems);
  return toConfig(parsed);
}

function crossFieldProblems(parsed: ParsedEnv): string[] {
  const problems: string[] = [];
  if ((parsed.TLS_CERT_FILE === undefined) !== (parsed.TLS_KEY_FILE === undefined)) {
    problems.push("TLS_CERT_FILE and TLS_KEY_FILE must be set together, got only one of them");
  }
  if (parsed.WEBHOOK_LEASE_MS !== undefined && parsed.WEBHOOK_LEASE_MS < parsed.WEBHOOK_TIMEOUT_MS + LEASE_MARGIN_MS) {
    problems.push(
      `WEBHOOK_LEASE_MS must exceed WEBHOOK_TIMEOUT_MS by at least ${LEASE_MARGIN_MS} ms (an attempt must end before its lease can), got ${parsed.WEBHOOK_LEASE_MS} with a timeout of ${parsed.WEBHOOK_TIMEOUT_MS}`,
    );
  }
  const phases = parsed.HTTP_HEADERS_TIMEOUT_MS + parsed.HTTP_BODY_TIMEOUT_MS;
  if (parsed.HTTP_REQUEST_TIMEOUT_MS !== undefined && parsed.HTTP_REQUEST_TIMEOUT_MS < phases) {
    problems.push(
      `HTTP_REQUEST_TIMEOUT_MS must be at least HTTP_HEADERS_TIMEOUT_MS + HTTP_BODY_TIMEOUT_MS (it bounds the whole request, both phases), got ${parsed.HTTP_REQUEST_TIMEOUT_MS} with ${parsed.HTTP_HEADERS_TIMEOUT_MS} + ${parsed.HTTP_BODY_TIMEOUT_MS}`,
    );
  }
  if (parsed.GRAPHQL_RESOLVER_CONCURRENCY >= parsed.DATABASE_POOL_SIZE) {
    problems.push(
      `GRAPHQL_RESOLVER_CONCURRENCY must be below DATABASE_POOL_SIZE (one operation must not take every connection), got ${parsed.GRAPHQL_RESOLVER_CONCURRENCY} with a pool of ${parsed.DATABASE_POOL_SIZE}`,
    );
  }
  return problems;
}

/** Default whole-request backstop beyond the two phases: the time between them (the key check) and a slow start. */
const DEFAULT_REQUEST_TIMEOUT_EXTRA_MS = 5_000;

/** Time a worker needs after the HTTP deadline to record the attempt. */
const LEASE_MARGIN_MS = 1_000;
/** Default lease: the HTTP timeout plus room for bookkeeping on a slow, loaded machine. */
const DEFAULT_LEASE_EXTRA_MS = 20_000;

function toConfig(parsed: ParsedEnv): HubConfig {
  const config: HubConfig = {
    databaseUrl: parsed.DATABASE_URL,
    databasePoolSize: parsed.DATABASE_POOL_SIZE,
    dataDir: path.resolve(parsed.DATA_DIR),
    host: parsed.HOST,
    port: parsed.PORT,
    role: parsed.HUB_ROLE,
    runsApi: parsed.HUB_ROLE !== "worker",
    runsWorker: parsed.HUB_ROLE !== "api",
    logLevel: parsed.LOG_LEVEL,
    tls: parsed.TLS_CERT_FILE && parsed.TLS_KEY_FILE
      ? Object.freeze({ certFile: parsed.TLS_CERT_FILE, keyFile: parsed.TLS_KEY_FILE })
      : undefined,
    adminKey: parsed.HUB_ADMIN_KEY,
    encryptionKey: parsed.HUB_ENCRYPTION_KEY,
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS,
    workerConcurrency: parsed.WORKER_CONCURRENCY,
    workerPollIntervalMs: parsed.WORKER_POLL_INTERVAL_MS,
    migrateOnStart: parsed.MIGRATE_ON_START,
    trustedProxies: Object.freeze([...parsed.TRUST_PROXY]),
    defaultRateLimitPerMinute: parsed.RATE_LIMIT_PER_MINUTE,
    clickRateLimitPerMinute: parsed.CLICK_RATE_LIMIT_PER_MINUTE,
    anonymousRateLimitPerMinute: parsed.ANONYMOUS_RATE_LIMIT_PER_MINUTE,
    postbackTimestampToleranceSeconds: parsed.POSTBACK_TIMESTAMP_TOLERANCE_SECONDS,
    requestLogRetentionDays: parsed.REQUEST_LOG_RETENTION_DAYS,
    requestLogFlushIntervalMs: parsed.REQUEST_LOG_FLUSH_INTERVAL_MS,
    http: Object.freeze({
      headersTimeoutMs: parsed.HTTP_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: parsed.HTTP_BODY_TIMEOUT_MS,
      requestTimeoutMs: parsed.HTTP_REQUEST_TIMEOUT_MS ?? parsed.HTTP_HEADERS_TIMEOUT_MS + parsed.HTTP_BODY_TIMEOUT_MS + DEFAULT_REQUEST_TIMEOUT_EXTRA_MS,
      keepAliveTimeoutMs: parsed.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnectionsPerIp: parsed.HTTP_MAX_CONNECTIONS_PER_IP,
    }),
    metricsToken: parsed.METRICS_TOKEN,
    graphql: Object.freeze({
      maxDepth: parsed.GRAPHQL_MAX_DEPTH,
      maxAliases: parsed.GRAPHQL_MAX_ALIASES,
      maxFields: parsed.GRAPHQL_MAX_FIELDS,
      maxCost: parsed.GRAPHQL_MAX_COST,
      defaultListSize: parsed.GRAPHQL_DEFAULT_LIST_SIZE,
      executionTimeoutMs: parsed.GRAPHQL_EXECUTION_TIMEOUT_MS,
      resolverConcurrency: parsed.GRAPHQL_RESOLVER_CONCURRENCY,
      introspection: parsed.INTROSPECTION,
    }),
    live: Object.freeze({
      keepAliveMs: parsed.WS_KEEPALIVE_MS,
      maxBufferedBytes: parsed.WS_MAX_BUFFERED_BYTES,
      maxQueuedEvents: parsed.WS_MAX_QUEUED_EVENTS,
      maxSubscriptionsPerConnection: parsed.WS_MAX_SUBSCRIPTIONS,
      statePushIntervalMs: parsed.QUEUE_DEPTH_PUSH_INTERVAL_MS,
    }),
    webhooks: Object.freeze({
      timeoutMs: parsed.WEBHOOK_TIMEOUT_MS,
      retryScheduleMs: Object.freeze([...parsed.WEBHOOK_RETRY_SCHEDULE]),
      allowPrivateTargets: parsed.WEBHOOK_ALLOW_PRIVATE_TARGETS,
      disableAfterHours: parsed.WEBHOOK_DISABLE_AFTER_HOURS,
      secretMaxAgeDays: parsed.WEBHOOK_SECRET_MAX_AGE_DAYS,
      leaseMs: parsed.WEBHOOK_LEASE_MS ?? parsed.WEBHOOK_TIMEOUT_MS + DEFAULT_LEASE_EXTRA_MS,
      sweepIntervalMs: parsed.WEBHOOK_SWEEP_INTERVAL_MS,
      maxInFlightPerEndpoint: parsed.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT,
    }),
    queueDepthAlertThreshold: parsed.QUEUE_DEPTH_ALERT_THRESHOLD,
    queueSampleIntervalMs: parsed.QUEUE_SAMPLE_INTERVAL_MS,
  };
  return Object.freeze(config);
}
