import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A webhook receiver on loopback that answers 200 at once and notes when each
 * `webhook-id` first arrived (performance.now() of this process, the same clock the
 * publisher reads). It keeps the first few requests whole, to verify their signatures.
 */
export interface ReceivedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

const KEPT_REQUESTS = 5;

export class WebhookReceiver {
  readonly firstArrival = new Map<string, number>();
  requests = 0;
  readonly kept: ReceivedRequest[] = [];
  private readonly waiters = new Map<string, Array<(at: number) => void>>();
  private countWaiter: { count: number; resolve: () => void } | undefined;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    const server = http.createServer();
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const receiver = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on("request", (request, response) => receiver.handle(request, response));
    return receiver;
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const arrivedAt = performance.now();
    const chunks: Buffer[] = [];
    const keep = this.kept.length < KEPT_REQUESTS;
    request.on("data", (chunk: Buffer) => keep && chunks.push(chunk));
    request.on("end", () => {
      response.writeHead(200, { "content-type": "text/plain", "content-length": 2 });
      response.end("ok");
    });
    this.requests += 1;
    const id = String(request.headers["webhook-id"] ?? "");
    if (keep) {
      request.on("end", () =>
        this.kept.push({
          path: request.url ?? "/",
          headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)])),
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    }
    if (!id || this.firstArrival.has(id)) return;
    this.firstArrival.set(id, arrivedAt);
    this.waiters.get(id)?.forEach((wake) => wake(arrivedAt));
    this.waiters.delete(id);
    if (this.countWaiter && this.firstArrival.size >= this.countWaiter.count) this.countWaiter.resolve();
  }

  /** Forgets what arrived, for the next measurement. */
  reset(): void {
    this.firstArrival.clear();
    this.requests = 0;
    this.kept.length = 0;
  }

  /** When `id` first arrived. */
  arrival(id: string, timeoutMs: number): Promise<number> {
    const known = this.firstArrival.get(id);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`webhook ${id} did not arrive within ${timeoutMs} ms`)), timeoutMs);
      const list = this.waiters.get(id) ?? [];
      list.push((at) => {
        clearTimeout(timer);
        resolve(at);
      });
      this.waiters.set(id, list);
    });
  }

  /** Resolves once `count` distinct ids have arrived; rejects with the count so far at the deadline. */
  distinct(count: number, timeoutMs: number): Promise<void> {
    if (this.firstArrival.size >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.countWaiter = undefined;
        reject(new Error(`only ${this.firstArrival.size} of ${count} webhooks arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      this.countWaiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          this.countWaiter = undefined;
          resolve();
        },
      };
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
