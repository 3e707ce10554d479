import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import fastifyApollo, { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { GraphQLSchema, OperationDefinitionNode } from "graphql";
import { GraphQLError } from "graphql";
import type { AccessPolicy, AccessState } from "./access";
import { callLogOf } from "./access";
import { RateLimitedError } from "../common/errors";
import { createRequestContext, type Hub, type RequestContext } from "../context";
import { createGraphqlErrorFormatter } from "./graphql-errors";
import { keepRawJsonBody, signedRequestOf } from "./graphql-raw-body";

export const GRAPHQL_PATH = "/graphql";

/** Any key (or none: the resolvers' @Authorized refuse); refusals are rendered as GraphQL errors. */
const GRAPHQL_ACCESS: AccessPolicy = { kind: "key", requireKey: false, deferRefusal: true };

/*
 * Apollo shallow-copies the context for each operation, so the request's access state
 * rides on the context itself (under a private symbol, copied along) for the audit plugin.
 */
const ACCESS_STATE = Symbol("accessState");
type AuditedContext = RequestContext & { [ACCESS_STATE]?: AccessState };

/** The access hooks ran in onRequest; here their verdict becomes the operation's viewer, or its refusal. */
function contextFor(hub: Hub, request: FastifyRequest, reply: FastifyReply): RequestContext {
  const state = request.access;
  if (state?.refusal) {
    const refusal = state.refusal;
    if (refusal instanceof RateLimitedError) void reply.header("retry-after", String(refusal.retryAfterSeconds));
    throw new GraphQLError(refusal.message, { extensions: { code: refusal.code, http: { status: refusal.httpStatus } } });
  }
  const context: AuditedContext = createRequestContext(hub, state?.viewer ?? { kind: "anonymous" }, request.id, {
    signedRequest: signedRequestOf(request),
    callLog: state ? callLogOf(state, { requestId: request.id, method: request.method, route: GRAPHQL_PATH }) : undefined,
  });
  if (state) context[ACCESS_STATE] = state;
  return context;
}

/** `Name`, or `query firstField` for anonymous operations: what the request log shows. */
export function operationLabel(operationName: string | null | undefined, operation: OperationDefinitionNode | null | undefined): string | null {
  if (operationName) return operationName;
  if (!operation) return null;
  if (operation.name) return operation.name.value;
  const first = operation.selectionSet.selections.find((selection) => selection.kind === "Field");
  return first && first.kind === "Field" ? `${operation.operation} ${first.name.value}` : operation.operation;
}

/** Tells the request log which operation ran and the first error code it produced. */
function auditPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ contextValue }) {
      const state = (contextValue as AuditedContext)[ACCESS_STATE];
      if (!state) return;
      return {
        async didResolveOperation({ operationName, operation }) {
          state.operation = operationLabel(operationName, operation);
        },
        async willSendResponse({ response }) {
          if (response.body.kind !== "single") return;
          const code = response.body.singleResult.errors?.[0]?.extensions?.code;
          if (typeof code === "string") state.errorCode = code;
        },
      };
    },
  };
}

export async function registerGraphql(app: FastifyInstance, hub: Hub, schema: GraphQLSchema): Promise<ApolloServer<RequestContext>> {
  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    formatError: createGraphqlErrorFormatter(hub.log),
    plugins: [fastifyApolloDrainPlugin(app), auditPlugin()],
  });
  await apollo.start();
  // The integration registers its route without config; give it the access policy.
  app.addHook("onRoute", (route) => {
    if (route.url === GRAPHQL_PATH) route.config = { ...route.config, access: GRAPHQL_ACCESS };
  });
  await app.register(async (scope) => {
    keepRawJsonBody(scope);
    await scope.register(fastifyApollo(apollo), {
      path: GRAPHQL_PATH,
      context: async (request, reply) => contextFor(hub, request, reply),
    });
  });
  return apollo;
}
