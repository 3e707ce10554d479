import pg from "pg";
import type { Logger } from "../common/logger";
import { backoffDelay, LISTENER_BACKOFF, type BackoffPolicy } from "./backoff";
import type { LocalPubSub } from "./local-pubsub";
import { decodeLiveMessage } from "./notify";
import { LIVE_CHANNEL, LIVE_RESYNC } from "./topics";

export interface LiveListenerOptions {
  url: string;
  /** Shown in pg_stat_activity, e.g. `affiliate-hub:api:live:<pid>`, so operators can find it. */
  applicationName: string;
  pubSub: LocalPubSub;
  log: Logger;
  backoff?: BackoffPolicy;
  /** How often the idle connection is checked with a query (a half-open TCP connection sends no error). */
  probeIntervalMs?: number;
  /** A check that takes longer than this counts as a lost connection. */
  probeTimeoutMs?: number;
  /** Counters and gauges; optional so the listener can run on its own in tests. */
  metrics?: ListenerMetrics;
}

export interface ListenerMetrics {
  connected(value: boolean): void;
  reconnected(): void;
  received(topic: string): void;
  malformed(): void;
}

export interface ListenerStatus {
  listening: boolean;
  backendPid: number | undefined;
  /** Successful reconnects since start (the first connect is not one). */
  reconnects: number;
  connectedSince: Date | undefined;
}

const DEFAULT_PROBE_INTERVAL_MS = 15_000;
const DEFAULT_PROBE_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 10_000;

/** pg has no public "destroy": end() waits for a server that may never answer. */
function destroyConnection(client: pg.Client): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  stream?.destroy();
}

/**
 * The process's one LISTEN connection (its own pg.Client, not from a pool: a pooled
 * connection would be recycled and lose its LISTEN). Every message on LIVE_CHANNEL is
 * published into the local pub/sub. When the connection drops it reconnects with
 * backoff and then publishes LIVE_RESYNC, because anything sent meanwhile was lost.
 */
export class LiveListener {
  private client: pg.Client | undefined;
  private listening = false;
  private stopped = false;
  private failures = 0;
  private everConnected = false;
  private reconnects = 0;
  private backendPid: number | undefined;
  private connectedSince: Date | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(private readonly options: LiveListenerOptions) {
    this.log = options.log.child({ component: "live-listener" });
  }

  /** Connects once; if that fails it keeps retrying in the background (readiness shows it). */
  async start(): Promise<void> {
    await this.connect();
  }

  status(): ListenerStatus {
    return { listening: this.listening, backendPid: this.backendPid, reconnects: this.reconnects, connectedSince: this.connectedSince };
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.probeTimer);
    const client = this.client;
    this.client = undefined;
    this.setListening(false);
    if (client) {
      client.removeAllListeners("notification");
      await client.end().catch(() => destroyConnection(client));
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: this.options.applicationName,
      keepAlive: true,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    } as pg.ClientConfig);
    this.client = client;
    // pg emits `error` and then `end` for one loss; lost() acts on the first only.
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, undefined));
    client.on("notification", (message) => this.dispatch(message));
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(LIVE_CHANNEL)}`);
      const { rows } = await client.query<{ pid: number }>("select pg_backend_pid() as pid");
      if (this.client !== client) return; // lost or closed meanwhile; that path reconnects
      this.backendPid = rows[0]?.pid;
    } catch (error) {
      if (this.client === client) this.lost(client, error);
      return;
    }
    this.failures = 0;
    this.connectedSince = new Date();
    this.setListening(true);
    this.startProbe(client);
    if (this.everConnected) {
      this.reconnects += 1;
      this.options.metrics?.reconnected();
      this.log.info({ backendPid: this.backendPid, reconnects: this.reconnects }, "live listener reconnected; resyncing subscribers");
      this.options.pubSub.publish(LIVE_RESYNC, { reason: "reconnected" });
    } else {
      this.log.debug({ backendPid: this.backendPid }, "live listener connected");
    }
    this.everConnected = true;
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearInterval(this.probeTimer);
    const wasListening = this.listening;
    this.setListening(false);
    client.removeAllListeners("notification");
    client.on("error", () => {}); // a dead client may still report; nobody needs it
    destroyConnection(client);
    if (this.stopped) return;
    const delayMs = backoffDelay(this.failures++, this.options.backoff ?? LISTENER_BACKOFF);
    const describe = error instanceof Error ? { error: error.message, code: (error as { code?: string }).code } : {};
    if (wasListening) this.log.warn({ ...describe, retryInMs: delayMs }, "live listener lost its database connection");
    else this.log.warn({ ...describe, attempt: this.failures, retryInMs: delayMs }, "live listener could not connect");
    this.reconnectTimer = setTimeout(() => void this.connect(), delayMs);
  }

  private startProbe(client: pg.Client): void {
    clearInterval(this.probeTimer);
    const intervalMs = this.options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    const timeoutMs = this.options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    let inFlight = false;
    this.probeTimer = setInterval(() => {
      if (this.client !== client || inFlight) return;
      inFlight = true;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`live listener health check took over ${timeoutMs} ms`)), timeoutMs);
      });
      Promise.race([client.query("select 1"), timeout])
        .catch((error: unknown) => this.lost(client, error))
        .finally(() => {
          clearTimeout(timer);
          inFlight = false;
        });
    }, intervalMs);
    this.probeTimer.unref();
  }

  private dispatch(message: pg.Notification): void {
    if (message.channel !== LIVE_CHANNEL) return;
    const decoded = decodeLiveMessage(message.payload);
    if (!decoded) {
      this.options.metrics?.malformed();
      this.log.warn({ bytes: message.payload?.length ?? 0 }, "ignored a malformed live message");
      return;
    }
    this.options.metrics?.received(decoded.topic);
    this.options.pubSub.publish(decoded.topic, decoded.payload);
  }

  private setListening(value: boolean): void {
    this.listening = value;
    if (!value) this.backendPid = undefined;
    this.options.metrics?.connected(value);
  }
}
