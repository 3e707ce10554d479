import { ApolloServer } from "@apollo/server";
import fastifyApollo, { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { GraphQLSchema } from "graphql";
import { GraphQLError } from "graphql";
import { apiKeyFromHeaders } from "../auth/credentials";
import { authenticate } from "../auth/authenticate";
import { HubError } from "../common/errors";
import { createRequestContext, type Hub, type RequestContext } from "../context";
import { createGraphqlErrorFormatter } from "./graphql-errors";

async function contextFor(hub: Hub, request: FastifyRequest): Promise<RequestContext> {
  const em = hub.orm.em.fork();
  try {
    const viewer = await authenticate(em, apiKeyFromHeaders(request.headers));
    return { ...createRequestContext(hub, viewer, request.id), em };
  } catch (error) {
    if (error instanceof HubError) {
      throw new GraphQLError(error.message, { extensions: { code: error.code, http: { status: error.httpStatus } } });
    }
    throw error;
  }
}

export async function registerGraphql(app: FastifyInstance, hub: Hub, schema: GraphQLSchema): Promise<ApolloServer<RequestContext>> {
  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    formatError: createGraphqlErrorFormatter(hub.log),
    plugins: [fastifyApolloDrainPlugin(app)],
  });
  await apollo.start();
  await app.register(fastifyApollo(apollo), {
    path: "/graphql",
    context: async (request) => contextFor(hub, request),
  });
  return apollo;
}
