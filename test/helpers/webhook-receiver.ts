import http, { type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { waitFor } from "./wait-for";

export interface ReceivedRequest {
  index: number;
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
  /** webhook-id, for grouping deliveries of one event. */
  messageId: string | undefined;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer after this long (a slow receiver). */
  delayMs?: number;
  /** Never answer (until the receiver closes): for timeouts and crash tests. */
  hang?: boolean;
}

export type Responder = (request: ReceivedRequest) => Reply | Promise<Reply>;

/**
 * A webhook receiver on 127.0.0.1: records every request, answers as the test says, and
 * notes when two requests for the same webhook-id were ever open at the same time.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Requests per webhook-id open at the same time, at most, seen so far. */
  maxConcurrentPerMessage = 0;
  /** Requests open (received, not yet answered or dropped) right now, and at most so far. */
  openRequests = 0;
  maxConcurrent = 0;
  private readonly open = new Map<string, number>();
  private readonly sockets = new Set<import("node:net").Socket>();
  private responder: Responder;
  private constructor(private readonly server: http.Server, responder: Responder) {
    this.responder = responder;
  }

  static async start(responder: Responder = () => ({ status: 200 })): Promise<WebhookReceiver> {
    const server = http.createServer();
    const receiver = new WebhookReceiver(server, responder);
    server.on("request", (req, res) => void receiver.handle(req, res));
    server.on("connection", (socket) => {
      receiver.sockets.add(socket);
      socket.on("close", () => receiver.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = "/hook"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  respond(responder: Responder): void {
    this.responder = responder;
  }

  forMessage(messageId: string): ReceivedRequest[] {
    return this.requests.filter((request) => request.messageId === messageId);
  }

  async waitForRequests(count: number, options: { timeoutMs?: number; what?: string } = {}): Promise<ReceivedRequest[]> {
    await waitFor(() => this.requests.length >= count, { timeoutMs: options.timeoutMs ?? 20_000, what: options.what ?? `${count} webhook requests` });
    return this.requests;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://receiver");
    const messageId = typeof req.headers["webhook-id"] === "string" ? req.headers["webhook-id"] : undefined;
    const request: ReceivedRequest = {
      index: this.requests.length,
      method: req.method ?? "",
      url: req.url ?? "",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString("utf8"),
      receivedAt: Date.now(),
      messageId,
    };
    if (messageId) {
      const open = (this.open.get(messageId) ?? 0) + 1;
      this.open.set(messageId, open);
      this.maxConcurrentPerMessage = Math.max(this.maxConcurrentPerMessage, open);
    }
    this.requests.push(request);
    this.openRequests += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.openRequests);
    const done = () => {
      this.openRequests -= 1;
      if (messageId) this.open.set(messageId, (this.open.get(messageId) ?? 1) - 1);
    };
    res.on("close", done);
    const reply = await this.responder(request);
    if (reply.hang) return;
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    res.writeHead(reply.status ?? 200, { "content-type": "text/plain", ...reply.headers });
    res.end(reply.body ?? "ok");
  }
}

/** A loopback port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
