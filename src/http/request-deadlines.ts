import type { IncomingMessage, ServerOptions, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { PassThrough } from "node:stream";
import type { FastifyInstance, FastifyReply } from "fastify";
import { Counter, type Registry } from "prom-client";
import { RequestTimeoutError } from "../common/errors";
import type { HttpConfig } from "../config";

/**
 * How long a client may take to *send* a request; answering is never timed (a lock wait
 * or a heavy query is not the client's doing). Three deadlines:
 *  - headers: Node's headersTimeout, from a request's first byte; it also closes a new
 *    connection that says nothing, and bounds a TLS handshake;
 *  - body: from when the hub starts reading it; answered 408 REQUEST_TIMEOUT by the route
 *    itself, so it carries the request id and is in the request log like any refusal;
 *  - whole request: Node's requestTimeout, a backstop for bytes nobody reads (the rest of
 *    a body after an early refusal) and for the gap between headers and body.
 * An upgraded connection (graphql-ws) leaves Node's request tracking at the upgrade, so
 * none of these apply to it.
 */

/** Node sweeps for expired header/request deadlines this often: such a cut comes at most this late. */
const MAX_CHECK_INTERVAL_MS = 1_000;
const MIN_CHECK_INTERVAL_MS = 50;
/** Node's default limit on the size of request headers. */
const MAX_HEADER_BYTES = 16 * 1024;
const TIMEOUT_CODES = new Set(["ERR_HTTP_REQUEST_TIMEOUT", "ERR_HTTP_HEADERS_TIMEOUT"]);

export function deadlineCheckIntervalMs(http: HttpConfig): number {
  return Math.min(MAX_CHECK_INTERVAL_MS, Math.max(MIN_CHECK_INTERVAL_MS, Math.floor(http.headersTimeoutMs / 4)));
}

/** For http.createServer / https.createServer (which takes the same keys). */
export function serverDeadlineOptions(http: HttpConfig): ServerOptions {
  return {
    headersTimeout: http.headersTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    connectionsCheckingInterval: deadlineCheckIntervalMs(http),
  };
}

export class RequestDeadlines {
  /** The response under way on a socket, until it is sent and its request fully read. */
  private readonly inFlight = new WeakMap<Socket, ServerResponse>();
  private readonly cuts: Counter<"phase">;

  constructor(private readonly http: HttpConfig, metrics: Registry) {
    this.cuts = new Counter({
      name: "hub_http_request_timeouts_total",
      help: "Requests cut because the client was too slow to send them, by phase (headers, body, request)",
      labelNames: ["phase"],
      registers: [metrics],
    });
  }

  install(app: FastifyInstance): void {
    app.server.on("request", (request: IncomingMessage, response: ServerResponse) => this.track(request, response));
    app.addHook("preParsing", async (request, reply, payload) => {
      // The usual case: the whole body came with the headers, there is nothing to wait for.
      if (request.raw.complete) return payload;
      return this.withBodyDeadline(payload, reply);
    });
  }

  /**
   * Fastify's clientErrorHandler: Node's deadline cuts, oversized headers and malformed
   * HTTP. With no request under way on the socket the answer is written here; otherwise
   * the route owns the response and the socket is only closed.
   */
  readonly onClientError = (error: NodeJS.ErrnoException, socket: Socket): void => {
    if (error.code === "ECONNRESET" || socket.destroyed) return;
    const underWay = this.inFlight.has(socket);
    if (error.code !== undefined && TIMEOUT_CODES.has(error.code)) {
      this.cuts.inc({ phase: underWay ? "request" : "headers" });
      if (!underWay) {
        writeAndClose(socket, 408, "Request Timeout", "REQUEST_TIMEOUT", `The request headers did not arrive within ${this.http.headersTimeoutMs} ms`);
      }
    } else if (!underWay && error.code === "HPE_HEADER_OVERFLOW") {
      writeAndClose(socket, 431, "Request Header Fields Too Large", "HEADERS_TOO_LARGE", `The request headers are larger than ${MAX_HEADER_BYTES} bytes`);
    } else if (!underWay) {
      writeAndClose(socket, 400, "Bad Request", "MALFORMED_REQUEST", "The request is not valid HTTP/1.1");
    }
    socket.destroy();
  };

  private track(request: IncomingMessage, response: ServerResponse): void {
    const socket = request.socket;
    this.inFlight.set(socket, response);
    const settle = () => {
      if (request.complete && response.writableFinished && this.inFlight.get(socket) === response) this.inFlight.delete(socket);
    };
    response.once("finish", settle);
    request.once("end", settle);
  }

  /** The body as a stream that fails with REQUEST_TIMEOUT (and a closing answer) if it is not all there in time. */
  private withBodyDeadline(payload: NodeJS.ReadableStream & { destroyed?: boolean }, reply: FastifyReply): PassThrough {
    const guarded = new PassThrough();
    const timer = setTimeout(() => {
      if (reply.sent) return;
      this.cuts.inc({ phase: "body" });
      // The rest of the body will not be read: the connection cannot carry another request.
      void reply.header("connection", "close");
      payload.unpipe(guarded);
      guarded.destroy(new RequestTimeoutError(`The request body did not arrive within ${this.http.bodyTimeoutMs} ms`));
    }, this.http.bodyTimeoutMs);
    const stop = () => clearTimeout(timer);
    payload.once("end", stop);
    payload.once("error", (error: Error) => {
      stop();
      guarded.destroy(error);
    });
    reply.raw.once("close", stop);
    // Fastify listens for errors while it reads; this one covers a body nobody reads.
    guarded.on("error", () => undefined);
    payload.pipe(guarded);
    return guarded;
  }
}

function writeAndClose(socket: Socket, status: number, reason: string, code: string, message: string): void {
  if (!socket.writable) return;
  const body = JSON.stringify({ error: { code, message } });
  // As Node itself does for client errors: one write, then the socket is destroyed.
  socket.write(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
