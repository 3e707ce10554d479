import type { Server as HttpServer } from "node:http";
import type { GraphQLSchema } from "graphql";
import { GraphQLError } from "graphql";
import { CloseCode } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { randomUUID } from "node:crypto";
import { authenticate } from "../auth/authenticate";
import { HubError } from "../common/errors";
import { createRequestContext, type Hub, type RequestContext } from "../context";
import type { Viewer } from "../auth/viewer";
import { createGraphqlErrorFormatter } from "./graphql-errors";

export interface WebSocketHandle {
  close(): Promise<void>;
}

type ConnectionExtra = {
  viewer?: Viewer;
  connectionId?: string;
};

/** graphql-ws on the same path as Apollo's HTTP endpoint; the key travels in connection_init. */
export function attachGraphqlWebSocket(server: HttpServer, hub: Hub, schema: GraphQLSchema): WebSocketHandle {
  const wss = new WebSocketServer({ server, path: "/graphql" });
  const formatError = createGraphqlErrorFormatter(hub.log);
  const disposable = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      schema,
      onConnect: async (ctx) => {
        const apiKey = ctx.connectionParams?.apiKey;
        if (apiKey !== undefined && typeof apiKey !== "string") return false;
        const em = hub.orm.em.fork();
        try {
          (ctx.extra as ConnectionExtra).viewer = await authenticate(em, apiKey);
          (ctx.extra as ConnectionExtra).connectionId = randomUUID();
          return true;
        } catch (error) {
          if (error instanceof HubError) return false;
          throw error;
        }
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
  return {
    close: async () => {
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export { CloseCode };
