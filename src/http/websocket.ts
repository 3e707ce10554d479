import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { GraphQLSchema } from "graphql";
import { GraphQLError, Kind, parse, type OperationDefinitionNode } from "graphql";
import { CloseCode } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer, type WebSocket } from "ws";
import { randomUUID } from "node:crypto";
import { newAccessState, type AccessGate, type AccessState } from "../auth/access-gate";
import type { KeyRecord } from "../auth/key-store";
import { HubError, toHubError } from "../common/errors";
import { createRequestContext, type Hub, type RequestContext } from "../context";
import type { Viewer } from "../auth/viewer";
import { createGraphqlErrorFormatter } from "./graphql-errors";
import { operationLabel } from "./graphql";

export interface WebSocketHandle {
  close(): Promise<void>;
}

type ConnectionExtra = {
  socket: WebSocket;
  request: IncomingMessage;
  viewer?: Viewer;
  connectionId?: string;
  clientIp?: string;
  apiKey?: string;
  key?: KeyRecord;
};

/** How often open connections' keys are re-checked, so a revoked key's subscriptions end too. */
const KEY_SWEEP_INTERVAL_MS = 30_000;
const WS_ROUTE = "/graphql";
const WS_METHOD = "WS";

function firstOperation(query: unknown): OperationDefinitionNode | undefined {
  if (typeof query !== "string") return undefined;
  try {
    return parse(query).definitions.find((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  } catch {
    return undefined;
  }
}

/**
 * graphql-ws on the same path as Apollo's HTTP endpoint; the key travels in connection_init.
 * The connection and then every operation pass the same gate as HTTP calls (key, IP
 * allowlist, rate limit) and each lands in the request log.
 */
export function attachGraphqlWebSocket(server: HttpServer, hub: Hub, schema: GraphQLSchema, gate: AccessGate): WebSocketHandle {
  const wss = new WebSocketServer({ server, path: WS_ROUTE });
  const formatError = createGraphqlErrorFormatter(hub.log);
  const connections = new Set<ConnectionExtra>();

  const admit = async (extra: ConnectionExtra, state: AccessState) => {
    if (extra.apiKey === undefined) return;
    extra.key = await gate.admitKey(state, extra.apiKey);
  };
  const log = (extra: ConnectionExtra, state: AccessState, error: unknown) => {
    const refusal = error === undefined ? undefined : toHubError(error);
    state.errorCode = refusal?.code ?? (error === undefined ? null : "INTERNAL_SERVER_ERROR");
    gate.record(state, {
      requestId: extra.connectionId ?? randomUUID(),
      method: WS_METHOD,
      route: WS_ROUTE,
      status: refusal?.httpStatus ?? (error === undefined ? 200 : 500),
      durationUs: (Date.now() - state.startedAt.getTime()) * 1000,
    });
  };

  const disposable = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      schema,
      onConnect: async (ctx) => {
        const extra = ctx.extra as ConnectionExtra;
        const apiKey = ctx.connectionParams?.apiKey;
        if (apiKey !== undefined && typeof apiKey !== "string") return false;
        extra.connectionId = randomUUID();
        extra.clientIp = gate.clientIps.resolve(extra.request.socket.remoteAddress, extra.request.headers["x-forwarded-for"]);
        extra.apiKey = apiKey;
        const state = newAccessState(extra.clientIp);
        state.operation = "connection_init";
        try {
          await admit(extra, state);
          extra.viewer = state.viewer;
          connections.add(extra);
          extra.socket.once("close", () => connections.delete(extra));
          return true;
        } catch (error) {
          log(extra, state, error);
          if (error instanceof HubError) return false;
          throw error;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        // Each operation is a call like any other: the key must still be active and within budget.
        const extra = ctx.extra as ConnectionExtra;
        const state = newAccessState(extra.clientIp ?? "");
        state.operation = operationLabel(payload.operationName, firstOperation(payload.query));
        try {
          await admit(extra, state);
          log(extra, state, undefined);
        } catch (error) {
          log(extra, state, error);
          const refusal = toHubError(error);
          if (!refusal) throw error;
          return [new GraphQLError(refusal.message, { extensions: { code: refusal.code } })];
        }
        return undefined;
      },
      context: (ctx): RequestContext => {
        const extra = ctx.extra as ConnectionExtra;
        return createRequestContext(hub, extra.viewer ?? { kind: "anonymous" }, extra.connectionId ?? randomUUID());
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => {
        const formatted = formatError(error.toJSON(), error);
        return new GraphQLError(formatted.message, { path: formatted.path, extensions: formatted.extensions });
      }),
    },
    wss,
  );

  const sweep = setInterval(() => {
    const keyed = [...connections].filter((extra) => extra.key);
    if (keyed.length === 0) return;
    gate.activeKeyIds([...new Set(keyed.map((extra) => extra.key!.id))]).then(
      (active) => {
        for (const extra of keyed) if (!active.has(extra.key!.id)) extra.socket.close(CloseCode.Forbidden, "API key revoked");
      },
      (error: unknown) => hub.log.warn({ err: error }, "re-checking WebSocket keys failed"),
    );
  }, KEY_SWEEP_INTERVAL_MS);
  sweep.unref();

  return {
    close: async () => {
      clearInterval(sweep);
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export { CloseCode };
