import type pg from "pg";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Logger } from "../common/logger";
import type { RequestLogEntry } from "../http/access";


/** Rows per INSERT: large enough to amortise the round trip, small enough to keep statements modest. */
const BATCH_SIZE = 1_000;
/** Beyond this many unwritten entries (database down for long) the oldest are dropped and counted. */
const MAX_BUFFERED = 200_000;

/*
 * An entry whose id is already there was written in the transaction of the money change
 * it logs (see insertRequestLog); the batched copy of it is then skipped.
 */
const INSERT_LOG = `
  insert into request_log (id, created_at, request_id, api_key_id, operator_id, affiliate_id, client_ip,
                           method, route, operation, status, error_code, duration_us)
  select * from unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[],
                       $8::text[], $9::text[], $10::text[], $11::int[], $12::text[], $13::int[])
  on conflict (id) do nothing`;

const TOUCH_KEYS = `
  update api_key k set last_used_at = v.used_at
    from unnest($1::uuid[], $2::timestamptz[]) as v(id, used_at)
   where k.id = v.id and (k.last_used_at is null or k.last_used_at < v.used_at)`;

function bounded(value: string | null, max: number): string | null {
  return value === null ? null : value.slice(0, max);
}

/**
 * Who used what, written off the request path: request-log entries and keys' last-use
 * times are buffered in memory and written in batches every flush interval (one INSERT
 * per batch, one UPDATE for all keys touched), and once more on shutdown, so a graceful
 * stop loses nothing. A failed write keeps the entries for the next attempt.
 */
export class UsageRecorder {
  private buffer: RequestLogEntry[] = [];
  private lastUsed = new Map<string, Date>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly dropped: Counter;
  private readonly buffered: Gauge;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    metrics: Registry,
    private readonly flushIntervalMs: number,
  ) {
    this.dropped = new Counter({ name: "hub_request_log_dropped_total", help: "Request-log entries dropped because the buffer was full", registers: [metrics] });
    this.buffered = new Gauge({
      name: "hub_request_log_buffered",
      help: "Request-log entries waiting to be written",
      registers: [metrics],
      collect: () => this.buffered.set(this.buffer.length),
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  record(entry: RequestLogEntry): void {
    this.buffer.push(entry);
    if (this.buffer.length > MAX_BUFFERED) {
      const excess = this.buffer.length - MAX_BUFFERED;
      this.buffer.splice(0, excess);
      this.dropped.inc(excess);
    }
  }

  touchKey(keyId: string, at: Date): void {
    this.lastUsed.set(keyId, at);
  }

  /** Writes everything buffered so far; concurrent callers share one flush. */
  flush(): Promise<void> {
    this.flushing ??= this.writeAll().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /** Stops the timer and writes what is left (after the HTTP server has drained). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush();
    if (this.buffer.length > 0 || this.lastUsed.size > 0) {
      this.log.error({ unwritten: this.buffer.length }, "request log entries could not be written at shutdown");
    }
  }

  private async writeAll(): Promise<void> {
    try {
      await this.writeLastUsed();
      while (this.buffer.length > 0) {
        const batch = this.buffer.slice(0, BATCH_SIZE);
        await this.pool.query(INSERT_LOG, columns(batch));
        this.buffer.splice(0, batch.length);
      }
    } catch (error: unknown) {
      this.log.warn({ err: error, buffered: this.buffer.length }, "writing the request log failed; will retry");
    }
  }

  private async writeLastUsed(): Promise<void> {
    if (this.lastUsed.size === 0) return;
    const pending = this.lastUsed;
    this.lastUsed = new Map();
    try {
      await this.pool.query(TOUCH_KEYS, [[...pending.keys()], [...pending.values()]]);
    } catch (error: unknown) {
      // Put them back unless a newer use arrived meanwhile.
      for (const [keyId, at] of pending) if (!this.lastUsed.has(keyId)) this.lastUsed.set(keyId, at);
      throw error;
    }
  }
}

/**
 * Writes entries on the caller's connection, inside its transaction: for calls that change
 * money, whose log line must commit (or roll back) with the change.
 */
export async function insertRequestLog(client: pg.ClientBase, entries: readonly RequestLogEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await client.query({ name: "request-log-insert", text: INSERT_LOG, values: columns(entries) });
}

function columns(batch: readonly RequestLogEntry[]): unknown[] {
  return [
    batch.map((e) => e.id),
    batch.map((e) => e.createdAt),
    batch.map((e) => bounded(e.requestId, 128)),
    batch.map((e) => e.apiKeyId),
    batch.map((e) => e.operatorId),
    batch.map((e) => e.affiliateId),
    batch.map((e) => bounded(e.clientIp, 64)),
    batch.map((e) => bounded(e.method, 10)),
    batch.map((e) => bounded(e.route, 200)),
    batch.map((e) => bounded(e.operation, 200)),
    batch.map((e) => e.status),
    batch.map((e) => bounded(e.errorCode, 64)),
    batch.map((e) => Math.min(e.durationUs, 2_147_483_647)),
  ];
}
