import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { Logger } from "../common/logger";
import { toHubError } from "../common/errors";

const TYPE_GRAPHQL_CODES: Record<string, string> = {
  UnauthorizedError: "UNAUTHENTICATED",
  ForbiddenError: "FORBIDDEN",
  ArgumentValidationError: "BAD_USER_INPUT",
};

/**
 * One place decides what a client sees: HubErrors keep their code and field, GraphQL's
 * own validation errors pass through, anything else becomes INTERNAL_SERVER_ERROR with
 * no internals and is logged with its stack.
 */
export function createGraphqlErrorFormatter(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const hubError = toHubError(original);
    if (hubError) {
      return {
        message: hubError.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: hubError.code, ...(hubError.field ? { field: hubError.field } : {}), ...hubError.details },
      };
    }
    const typeGraphqlCode = original instanceof Error ? TYPE_GRAPHQL_CODES[original.constructor.name] : undefined;
    if (typeGraphqlCode) {
      return { ...formatted, extensions: { ...formatted.extensions, code: typeGraphqlCode } };
    }
    const code = formatted.extensions?.code;
    const isClientError = original instanceof GraphQLError || (typeof code === "string" && code !== "INTERNAL_SERVER_ERROR");
    if (isClientError) return formatted;
    log.error({ err: original, path: formatted.path }, "unhandled error in GraphQL operation");
    return { message: "Internal server error", locations: formatted.locations, path: formatted.path, extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}
