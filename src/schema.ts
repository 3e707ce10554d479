import "reflect-metadata";
import { GraphQLDateTime } from "graphql-scalars";
import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { authChecker } from "./auth/auth-checker";
import { RESOLVERS } from "./resolvers";
import type { PubSub } from "type-graphql";

export const SCHEMA_FILE = "schema/schema.graphql";

export async function buildHubSchema(pubSub?: PubSub): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    authChecker,
    authMode: "error",
    validate: false,
    pubSub,
  });
}
