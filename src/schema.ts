import "reflect-metadata";
import { GraphQLDateTime } from "graphql-scalars";
import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { authChecker } from "./auth/auth-checker";
import type { NonEmptyArray, PubSub } from "type-graphql";

export const SCHEMA_FILE = "schema/schema.graphql";

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export async function buildHubSchema(resolvers: readonly Function[], pubSub?: PubSub): Promise<GraphQLSchema> {
  if (resolvers.length === 0) throw new Error("no resolvers: the schema needs at least one");
  return buildSchema({
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    resolvers: [...resolvers] as NonEmptyArray<Function>,
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    authChecker,
    authMode: "error",
    validate: false,
    pubSub,
  });
}
