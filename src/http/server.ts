import { readFileSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import fastify, { LogController, type FastifyInstance } from "fastify";
import type { Hub } from "../context";
import { ConnectionCap } from "./connection-limits";
import { RequestDeadlines, serverDeadlineOptions } from "./request-deadlines";
import { handleRestError } from "./rest-errors";

/** Bodies above this are refused with 413 before they are parsed. */
export const MAX_BODY_BYTES = 64 * 1024;
const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function createHttpApp(hub: Hub): FastifyInstance {
  const { tls, http } = hub.config;
  const deadlines = new RequestDeadlines(http, hub.metrics);
  const serverOptions = serverDeadlineOptions(http);
  const app = fastify({
    loggerInstance: hub.log.child({ component: "http" }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
    // Fastify sets these two on the server itself (its defaults: 72 s and no limit at all).
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    clientErrorHandler: deadlines.onClientError,
    // Callers may pass their own request id for tracing; anything odd is replaced.
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ...(tls
      ? {
          https: {
            ...serverOptions,
            cert: readFileSync(tls.certFile),
            key: readFileSync(tls.keyFile),
            minVersion: "TLSv1.2" as const,
            handshakeTimeout: http.headersTimeoutMs,
          },
        }
      : { http: serverOptions }),
  }) as unknown as FastifyInstance;
  new ConnectionCap(http.maxConnectionsPerIp, hub.config.trustedProxies, hub.metrics, hub.log.child({ component: "http" })).attach(app.server);
  deadlines.install(app);
  app.setErrorHandler(handleRestError);
  // A request still in flight when shutdown starts gets its answer, then its keep-alive
  // connection is closed; otherwise the server would wait for the client's idle timeout.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
    if (closing) reply.header("connection", "close");
  });
  app.addHook("onResponse", async (request, reply) => {
    request.log.debug({ method: request.method, url: request.routeOptions.url, status: reply.statusCode, ms: reply.elapsedTime }, "request completed");
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: "NOT_FOUND", message: `No route ${request.method} ${request.url.split("?")[0]}`, requestId: request.id } });
  });
  return app;
}

export function listeningUrls(server: HttpServer, host: string, secure: boolean): { http: string; ws: string } {
  const { port } = server.address() as AddressInfo;
  const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return {
    http: `${secure ? "https" : "http"}://${shownHost}:${port}`,
    ws: `${secure ? "wss" : "ws"}://${shownHost}:${port}`,
  };
}
