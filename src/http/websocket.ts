import type { IncomingMessage, Server as HttpServer } from "node:http";
import { randomUUID } from "node:crypto";
import { getOperationAST, GraphQLError, type DocumentNode, type GraphQLSchema } from "graphql";
import { CloseCode, handleProtocols, makeServer, type Server } from "graphql-ws";
import { Counter, Gauge } from "prom-client";
import WebSocket, { WebSocketServer } from "ws";
import type { Logger } from "../common/logger";
import { createRequestContext, type Hub } from "../context";
import type { LiveConnection, LiveRequestContext } from "../live/live-connection";
import { LIVE_RESYNC, type LiveTopics } from "../live/topics";
import { createGraphqlErrorFormatter } from "./graphql-errors";
import { MAX_BODY_BYTES } from "./server";
import { closeReason, WS_CLOSE } from "./websocket-close";
import type { ApiGate } from "./access";
import { admitConnection, admitOperation, type GatedConnection } from "./websocket-access";
import { ANONYMOUS, type Viewer } from "../common/viewer";
import { GraphqlLimits, parseDocument, refusalAsGraphqlError } from "./graphql-limits";
import { guardResolvers, OperationGuard, stoppedOperationsCounter, withOperationGuard } from "./operation-guard";

export { WS_CLOSE };

export interface WebSocketHandle {
  /** Open connections (tests and diagnostics). */
  connectionCount(): number;
  close(): Promise<void>;
}

/** A close handshake the client does not complete (it stopped reading) ends in a terminate. */
const CLOSE_GRACE_MS = 5_000;
/** Generous for clients on slow networks; graphql-ws closes with 4408 past it. */
const CONNECTION_INIT_TIMEOUT_MS = 10_000;
/** How long a revocation is remembered, to catch a key revoked while its connection was being accepted. */
const REVOCATION_MEMORY_MS = 10 * 60_000;

type CloseKind = "unauthenticated" | "forbidden" | "bad_request" | "unavailable" | "revoked" | "slow" | "keepalive" | "shutdown" | "protocol" | "error";

interface ConnectionExtra {
  connection: Connection;
}

/** One graphql-ws connection: its socket, its key, and how to end it. */
class Connection implements LiveConnection, GatedConnection {
  readonly id = randomUUID();
  viewer: Viewer = ANONYMOUS;
  apiKeyId: string | undefined;
  /** For the access gate's per-operation checks (TRUST_PROXY-aware address, the key as sent). */
  clientIp = "";
  apiKey: string | undefined;
  /** Answered the last keep-alive ping. */
  alive = true;
  closing = false;
  graceTimer: NodeJS.Timeout | undefined;
  /** Ends the connection's operations (and their listeners); set once graphql-ws has it. */
  release: (code: number, reason: string) => void = () => {};
  /** Budgets of its running queries and mutations: stopped when the connection goes. */
  readonly operationGuards = new Set<OperationGuard>();

  private queued = 0;
  readonly queueBudget = {
    take: (): boolean => {
      if (this.queued >= this.maxQueued) return false;
      this.queued += 1;
      return true;
    },
    give: (count: number): void => {
      this.queued -= count;
    },
  };

  constructor(
    readonly socket: WebSocket,
    readonly request: IncomingMessage,
    private readonly owner: LiveWebSocketServer,
    private readonly maxQueued: number,
  ) {}

  fellBehind(reason: string): void {
    this.owner.end(this, WS_CLOSE.SLOW_CONSUMER, closeReason("SLOW_CONSUMER", reason), "slow");
  }
}

class LiveWebSocketServer {
  private readonly wss: WebSocketServer;
  private readonly graphql: Server<ConnectionExtra>;
  private readonly connections = new Set<Connection>();
  private readonly byKey = new Map<string, Set<Connection>>();
  private readonly recentlyRevoked = new Map<string, number>();
  private readonly keepAlive: NodeJS.Timeout;
  private readonly unlisten: Array<() => void>;
  private readonly log: Logger;
  private readonly gauge: Gauge;
  private readonly closed: Counter<"reason">;

  constructor(server: HttpServer, private readonly hub: Hub, schema: GraphQLSchema, private readonly gate: ApiGate) {
    this.log = hub.log.child({ component: "websocket" });
    const registers = [hub.metrics];
    this.gauge = new Gauge({ name: "hub_ws_connections", help: "Open graphql-ws connections", registers });
    this.closed = new Counter({ name: "hub_ws_closed_by_server_total", help: "graphql-ws connections the server closed, by reason", labelNames: ["reason"], registers });

    this.wss = new WebSocketServer({
      server,
      path: "/graphql",
      handleProtocols: (protocols) => handleProtocols(protocols),
      maxPayload: MAX_BODY_BYTES,
      perMessageDeflate: false,
    });
    // Errors of the HTTP server are re-emitted here; unhandled they would crash the process.
    this.wss.on("error", (error) => this.log.error({ err: error }, "WebSocket server error"));
    this.graphql = this.makeGraphqlServer(schema);
    this.wss.on("connection", (socket, request) => this.accept(socket, request));
    // The sweep runs after pending I/O: if this process stalled, pongs that arrived
    // meanwhile are read before anyone is judged unresponsive.
    this.keepAlive = setInterval(() => setImmediate(() => this.sweep()), hub.config.live.keepAliveMs);
    this.unlisten = [
      hub.pubSub.listen("auth.api_key_revoked", (payload) => this.revoked((payload as LiveTopics["auth.api_key_revoked"]).apiKeyId)),
      hub.pubSub.listen(LIVE_RESYNC, () => void this.recheckKeys()),
    ];
  }

  connectionCount(): number {
    return this.connections.size;
  }

  /** Ends a connection with a close frame, and terminates it if the client does not complete the close. */
  end(connection: Connection, code: number, reason: string, kind: CloseKind): void {
    if (connection.closing) return;
    connection.closing = true;
    this.closed.inc({ reason: kind });
    const level = kind === "shutdown" ? "debug" : "info";
    this.log[level]({ connectionId: connection.id, apiKeyId: connection.apiKeyId, code, reason }, "closing WebSocket connection");
    const { socket } = connection;
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(code, reason);
    connection.graceTimer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
    // A client that stopped reading may take the whole grace period to see the close
    // frame; its subscriptions and their queues go now.
    connection.release(code, reason);
  }

  async close(): Promise<void> {
    clearInterval(this.keepAlive);
    for (const stop of this.unlisten) stop();
    for (const connection of this.connections) this.end(connection, WS_CLOSE.GOING_AWAY, "Server shutting down", "shutdown");
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (this.connections.size > 0) return;
        clearInterval(check);
        resolve();
      }, 20);
    });
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private makeGraphqlServer(schema: GraphQLSchema): Server<ConnectionExtra> {
    const formatError = createGraphqlErrorFormatter(this.hub.log);
    const maxOperations = this.hub.config.live.maxSubscriptionsPerConnection;
    // The same limits and execution budget as GraphQL over HTTP.
    guardResolvers(schema);
    const limits = new GraphqlLimits(schema, this.hub.config.graphql);
    const stopped = stoppedOperationsCounter(this.hub.metrics);
    const { resolverConcurrency, executionTimeoutMs } = this.hub.config.graphql;
    const guards = new WeakMap<object, OperationGuard>();
    return makeServer<Record<string, unknown> | undefined, ConnectionExtra>({
      schema,
      connectionInitWaitTimeout: CONNECTION_INIT_TIMEOUT_MS,
      onConnect: async (ctx) => this.authorize(ctx.extra.connection, ctx.connectionParams),
      context: (ctx, id, payload, args): LiveRequestContext => {
        const { connection } = ctx.extra;
        // Subscriptions run as long as they are wanted; queries and mutations get the deadline.
        const isSubscription = getOperationAST(args.document, args.operationName)?.operation === "subscription";
        const guard = new OperationGuard({
          concurrency: resolverConcurrency,
          timeoutMs: isSubscription ? undefined : executionTimeoutMs,
          stillWanted: () => id in ctx.subscriptions,
          onStop: (reason) => stopped.inc({ reason }),
        });
        guards.set(payload, guard);
        // A subscription simply ends with its connection (graphql-ws returns its stream).
        if (!isSubscription) connection.operationGuards.add(guard);
        return withOperationGuard({ ...createRequestContext(this.hub, connection.viewer, `${connection.id}/${id}`), liveConnection: connection }, guard);
      },
      onComplete: (ctx, _id, payload) => {
        const guard = guards.get(payload);
        if (!guard) return;
        guard.finish();
        ctx.extra.connection.operationGuards.delete(guard);
      },
      onSubscribe: async (ctx, _id, payload) => {
        // The new operation is already counted in ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > maxOperations) {
          return [new GraphQLError(`At most ${maxOperations} operations may run on one connection`, { extensions: { code: "TOO_MANY_SUBSCRIPTIONS" } })];
        }
        const { connection } = ctx.extra;
        const overLimits = (document: DocumentNode) =>
          limits.refusal({ document, operationName: payload.operationName, variables: payload.variables }, connection.viewer, "ws");
        // Like any API call: the key still active and allowed here, within its budget, within the limits, logged.
        if (this.gate) return admitOperation(this.gate, connection, payload, overLimits);
        const document = typeof payload.query === "string" ? parseDocument(payload.query) : undefined;
        const refusal = document && overLimits(document);
        return refusal ? [refusalAsGraphqlError(refusal, "ws")] : undefined;
      },
      // Errors inside results (a refused subscribe, a failing resolver) get the same codes
      // and masking as over HTTP; without this they would go out raw.
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!result.errors?.length) return undefined;
        return { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error)) };
      },
      onError: (_ctx, _id, _payload, errors) =>
        errors.map((error) => {
          const formatted = formatError(error.toJSON(), error);
          return new GraphQLError(formatted.message, { path: formatted.path, extensions: formatted.extensions });
        }),
    });
  }

  private async authorize(connection: Connection, params: Record<string, unknown> | undefined): Promise<boolean> {
    const outcome = await admitConnection(this.gate, connection, params, connection.request, this.log);
    if (!outcome.ok) {
      const kind: CloseKind = outcome.closeCode === WS_CLOSE.FORBIDDEN ? "forbidden"
        : outcome.closeCode === WS_CLOSE.BAD_REQUEST ? "bad_request"
        : outcome.closeCode === WS_CLOSE.TRY_AGAIN_LATER ? "unavailable"
        : "unauthenticated";
      this.end(connection, outcome.closeCode, closeReason(outcome.code, outcome.message), kind);
      return false; // graphql-ws then closes with 4403 too; the socket is already closing with ours
    }
    if (connection.closing) return false;
    connection.viewer = outcome.viewer;
    connection.apiKeyId = outcome.viewer.apiKeyId;
    const set = this.byKey.get(outcome.viewer.apiKeyId) ?? new Set<Connection>();
    set.add(connection);
    this.byKey.set(outcome.viewer.apiKeyId, set);
    // Revoked between the key lookup and now: the revocation message already went by.
    if (this.recentlyRevoked.has(outcome.viewer.apiKeyId)) {
      this.end(connection, WS_CLOSE.UNAUTHENTICATED, closeReason("API_KEY_REVOKED", "The API key was revoked"), "revoked");
      return false;
    }
    return true;
  }

  private accept(socket: WebSocket, request: IncomingMessage): void {
    const connection = new Connection(socket, request, this, this.hub.config.live.maxQueuedEvents);
    this.connections.add(connection);
    this.gauge.set(this.connections.size);
    socket.on("error", (error) => this.log.debug({ connectionId: connection.id, err: error }, "WebSocket error"));
    socket.on("pong", () => (connection.alive = true));
    const closed = this.graphql.opened(
      {
        protocol: socket.protocol,
        send: (data) => this.send(connection, data),
        close: (code, reason) => {
          const kind: CloseKind = code === CloseCode.InternalServerError ? "error" : "protocol";
          this.end(connection, code ?? 1000, reason ?? "", kind);
        },
        onMessage: (handle) =>
          socket.on("message", (data, isBinary) => {
            if (connection.closing) return;
            if (isBinary) {
              this.end(connection, CloseCode.BadRequest, "BAD_REQUEST: only text messages are accepted", "protocol");
              return;
            }
            handle(data.toString()).catch((error: unknown) => {
              this.log.error({ connectionId: connection.id, err: error }, "error while handling a graphql-ws message");
              this.end(connection, CloseCode.InternalServerError, "Internal server error", "error");
            });
          }),
      },
      { connection },
    );
    let released = false;
    connection.release = (code, reason) => {
      if (released) return;
      released = true;
      for (const guard of connection.operationGuards) guard.clientGone();
      // Ends every operation of the connection, which removes their listeners.
      closed(code, reason).catch((error: unknown) => this.log.error({ err: error }, "error while cleaning up a WebSocket connection"));
    };
    socket.once("close", (code, reason) => {
      connection.closing = true; // also stops an authorization still in flight from registering it
      clearTimeout(connection.graceTimer);
      this.connections.delete(connection);
      this.gauge.set(this.connections.size);
      if (connection.apiKeyId) {
        const set = this.byKey.get(connection.apiKeyId);
        set?.delete(connection);
        if (set?.size === 0) this.byKey.delete(connection.apiKeyId);
      }
      connection.release(code, reason.toString());
    });
  }

  /**
   * graphql-ws awaits each send before taking the next event of that subscription, so
   * a client that stops reading holds back its own subscriptions (whose queues are
   * bounded) and nothing else. bufferedAmount catches what slips past that.
   */
  private send(connection: Connection, data: string): Promise<void> {
    const { socket } = connection;
    if (socket.readyState !== WebSocket.OPEN || connection.closing) return Promise.resolve();
    if (socket.bufferedAmount > this.hub.config.live.maxBufferedBytes) {
      connection.fellBehind(`more than ${this.hub.config.live.maxBufferedBytes} bytes waiting to be sent`);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      socket.send(data, (error) => {
        // A socket closing under a send is normal; other failures end the operation.
        if (error && socket.readyState === WebSocket.OPEN) reject(error);
        else resolve();
      });
    });
  }

  /** Keep-alive: a connection that did not answer the previous ping is gone (or too far behind to read it). */
  private sweep(): void {
    for (const connection of this.connections) {
      if (connection.closing) continue;
      const { socket } = connection;
      if (!connection.alive) {
        this.closed.inc({ reason: "keepalive" });
        this.log.info({ connectionId: connection.id, apiKeyId: connection.apiKeyId }, "terminating a WebSocket that stopped answering pings");
        connection.closing = true;
        socket.terminate();
        continue;
      }
      if (socket.bufferedAmount > this.hub.config.live.maxBufferedBytes) {
        connection.fellBehind(`more than ${this.hub.config.live.maxBufferedBytes} bytes waiting to be sent`);
        continue;
      }
      connection.alive = false;
      socket.ping();
    }
  }

  private revoked(apiKeyId: string): void {
    const now = Date.now();
    for (const [id, at] of this.recentlyRevoked) if (now - at > REVOCATION_MEMORY_MS) this.recentlyRevoked.delete(id);
    this.recentlyRevoked.set(apiKeyId, now);
    for (const connection of this.byKey.get(apiKeyId) ?? []) {
      this.end(connection, WS_CLOSE.UNAUTHENTICATED, closeReason("API_KEY_REVOKED", "The API key was revoked"), "revoked");
    }
  }

  /** After a listener reconnect a revocation may have been missed: check every connected key again. */
  private async recheckKeys(): Promise<void> {
    const ids = [...this.byKey.keys()];
    if (ids.length === 0) return;
    try {
      const activeIds = await this.gate.activeKeyIds(ids);
      for (const id of ids) if (!activeIds.has(id)) this.revoked(id);
    } catch (error) {
      this.log.warn({ err: error }, "could not re-check the keys of open WebSocket connections");
    }
  }
}

/**
 * graphql-ws on the same path as Apollo's HTTP endpoint; the key travels in connection_init.
 * Connections and operations pass the access gate, with the HTTP calls' checks and logging.
 */
export function attachGraphqlWebSocket(server: HttpServer, hub: Hub, schema: GraphQLSchema, gate: ApiGate): WebSocketHandle {
  const live = new LiveWebSocketServer(server, hub, schema, gate);
  return {
    connectionCount: () => live.connectionCount(),
    close: () => live.close(),
  };
}

export { CloseCode };
