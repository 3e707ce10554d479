import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import fastifyApollo, { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from "fastify";
import type { GraphQLSchema, OperationDefinitionNode } from "graphql";
import { getOperationAST, GraphQLError } from "graphql";
import type { Counter } from "prom-client";
import { callLogOf, type AccessPolicy, type AccessState } from "./access";
import { ANONYMOUS } from "../common/viewer";
import { RateLimitedError } from "../common/errors";
import { createRequestContext, type Hub, type RequestContext } from "../context";
import { createGraphqlErrorFormatter } from "./graphql-errors";
import { keepRawJsonBody, signedRequestOf } from "./graphql-raw-body";
import { GraphqlLimits, parseDocument, refusalAsGraphqlError, refusalExtensions } from "./graphql-limits";
import { guardResolvers, OperationGuard, stoppedOperationsCounter, withOperationGuard } from "./operation-guard";

export const GRAPHQL_PATH = "/graphql";

/**
 * Any key (or none: the resolvers' @Authorized refuse, and the client IP spends the
 * anonymous budget); refusals are rendered as GraphQL errors.
 */
const GRAPHQL_ACCESS: AccessPolicy = { kind: "key", requireKey: false, deferRefusal: true, anonymousBudget: true };

/*
 * Apollo shallow-copies the context for each operation, so the request's access state
 * rides on the context itself (under a private symbol, copied along) for the audit plugin.
 */
const ACCESS_STATE = Symbol("accessState");
type AuditedContext = RequestContext & { [ACCESS_STATE]?: AccessState };

/**
 * The access hooks ran in onRequest; here their verdict becomes the operation's viewer, or
 * its refusal. The operation's guard starts its deadline now and stops it if the client
 * hangs up before its answer.
 */
function contextFor(hub: Hub, request: FastifyRequest, reply: FastifyReply, stopped: Counter<"reason">): RequestContext {
  const state = request.access;
  if (state?.refusal) {
    const refusal = state.refusal;
    if (refusal instanceof RateLimitedError) void reply.header("retry-after", String(refusal.retryAfterSeconds));
    throw new GraphQLError(refusal.message, { extensions: { code: refusal.code, http: { status: refusal.httpStatus } } });
  }
  const { resolverConcurrency, executionTimeoutMs } = hub.config.graphql;
  const guard = new OperationGuard({ concurrency: resolverConcurrency, timeoutMs: executionTimeoutMs, onStop: (reason) => stopped.inc({ reason }) });
  reply.raw.once("close", () => (reply.raw.writableFinished ? guard.finish() : guard.clientGone()));
  const context: AuditedContext = withOperationGuard(createRequestContext(hub, state?.viewer ?? ANONYMOUS, request.id, {
      signedRequest: signedRequestOf(request),
      callLog: state ? callLogOf(state, { requestId: request.id, method: request.method, route: GRAPHQL_PATH }) : undefined,
    }), guard);
  if (state) context[ACCESS_STATE] = state;
  return context;
}

/** The query, operation name and variables of a GraphQL-over-HTTP request (GET or POST), as Apollo reads them. */
function operationRequestOf(request: FastifyRequest): { query: string; operationName: string | null; variables: Record<string, unknown> | null } | undefined {
  const input: unknown = request.method === "GET" ? request.query : request.body;
  if (!isRecord(input) || typeof input.query !== "string") return undefined;
  let variables: unknown = input.variables;
  if (typeof variables === "string") {
    try {
      variables = JSON.parse(variables); // GET carries them as JSON text
    } catch {
      variables = undefined;
    }
  }
  return { query: input.query, operationName: typeof input.operationName === "string" ? input.operationName : null, variables: isRecord(variables) ? variables : null };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Refuses a document over the limits (or an introspection or subscription this caller
 * may not run) before Apollo validates it: validating a 60 KiB document of repeated
 * fields alone takes about 200 ms. Apollo's plugin below checks again whatever reaches it
 * another way (persisted queries).
 */
function refuseBeforeValidation(limits: GraphqlLimits): preHandlerHookHandler {
  return async (request, reply) => {
    const state = request.access;
    if (state?.refusal) return; // answered in the context, in GraphQL's shape
    const operationRequest = operationRequestOf(request);
    const document = operationRequest && parseDocument(operationRequest.query);
    if (!operationRequest || !document) return; // Apollo answers what it cannot read
    const refusal = limits.refusal({ ...operationRequest, document }, state?.viewer ?? ANONYMOUS, "http");
    if (!refusal) return;
    if (state) {
      state.operation = operationLabel(operationRequest.operationName, getOperationAST(document, operationRequest.operationName));
      state.errorCode = refusal.code;
    }
    await reply.code(refusal.httpStatus).type("application/json; charset=utf-8").send({ errors: [{ message: refusal.message, extensions: refusalExtensions(refusal) }] });
  };
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

/** The limits again, on the document Apollo is about to run (after validation). */
function limitsPlugin(limits: GraphqlLimits): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, contextValue }) {
          const refusal = limits.refusal({ document, operationName: request.operationName, variables: request.variables }, contextValue.viewer, "http");
          if (refusal) throw refusalAsGraphqlError(refusal, "http");
        },
      };
    },
  };
}

export async function registerGraphql(app: FastifyInstance, hub: Hub, schema: GraphQLSchema): Promise<ApolloServer<RequestContext>> {
  guardResolvers(schema);
  const limits = new GraphqlLimits(schema, hub.config.graphql);
  const stopped = stoppedOperationsCounter(hub.metrics);
  const apollo = new ApolloServer<RequestContext>({
    schema,
    // Who may introspect is decided per request (INTROSPECTION), in the limits.
    introspection: true,
    includeStacktraceInErrorResponses: false,
    formatError: createGraphqlErrorFormatter(hub.log),
    plugins: [fastifyApolloDrainPlugin(app), auditPlugin(), limitsPlugin(limits)],
  });
  await apollo.start();
  // The integration registers its routes without config; give them the access policy and the early refusal.
  app.addHook("onRoute", (route) => {
    if (route.url !== GRAPHQL_PATH) return;
    route.config = { ...route.config, access: GRAPHQL_ACCESS };
    const existing = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
    route.preHandler = [...existing, refuseBeforeValidation(limits)];
  });
  await app.register(async (scope) => {
    keepRawJsonBody(scope);
    await scope.register(fastifyApollo(apollo), {
      path: GRAPHQL_PATH,
      context: async (request, reply) => contextFor(hub, request, reply, stopped),
    });
  });
  return apollo;
}
