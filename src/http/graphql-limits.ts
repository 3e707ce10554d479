import { getIntrospectionQuery, getOperationAST, GraphQLError, parse, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from "graphql";
import { isAdmin, type Viewer } from "../common/viewer";
import { BadRequestError, ForbiddenError, QueryTooComplexError, type HubError } from "../common/errors";
import type { GraphqlConfig } from "../config";
import { countSelections, measureOperation, type ComplexityMeasure, type ListSizes } from "./query-complexity";

/**
 * What may run, decided on the parsed document before validation and execution, the same
 * way for GraphQL over HTTP and over graphql-ws: the size and cost limits
 * (`QUERY_TOO_COMPLEX`), who may introspect (`INTROSPECTION_DISABLED`), and no
 * subscriptions over HTTP (`SUBSCRIPTION_OVER_HTTP`).
 */
export type Transport = "http" | "ws";

export interface OperationRequest {
  readonly document: DocumentNode;
  readonly operationName?: string | null;
  readonly variables?: Readonly<Record<string, unknown>> | null;
}

const LIMIT_NAMES: Record<ComplexityMeasure, string> = {
  aliases: "GRAPHQL_MAX_ALIASES",
  fields: "GRAPHQL_MAX_FIELDS",
  depth: "GRAPHQL_MAX_DEPTH",
  cost: "GRAPHQL_MAX_COST",
  introspection_cost: "two full introspections of this schema",
};

/** Introspection may cost as much as this many full introspection queries (GraphiQL and codegen send one). */
const INTROSPECTIONS_PER_DOCUMENT = 2;

/**
 * A paged field whose `first` the request leaves out is assumed to return this many: the
 * largest default page of the hub's lists (admin lists default to 100, the rest to 50).
 */
const ASSUMED_PAGE_SIZE = 100;

export class GraphqlLimits {
  private readonly listSizes: ListSizes;
  private readonly introspectionBudget: number;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly config: GraphqlConfig,
  ) {
    this.listSizes = { list: config.defaultListSize, page: ASSUMED_PAGE_SIZE };
    this.introspectionBudget = INTROSPECTIONS_PER_DOCUMENT * this.fullIntrospectionCost();
  }

  /** Why this operation may not run, or undefined when it may go on to validation and execution. */
  refusal(request: OperationRequest, viewer: Viewer, transport: Transport): HubError | undefined {
    const counts = countSelections(request.document);
    const sizeRefusal = this.over("aliases", counts.aliases) ?? this.over("fields", counts.fields);
    if (sizeRefusal) return sizeRefusal;
    const operation = getOperationAST(request.document, request.operationName ?? undefined);
    if (transport === "http" && operation?.operation === "subscription") {
      return new BadRequestError(
        "Subscriptions are served over WebSocket only: connect a graphql-ws client (protocol graphql-transport-ws) to this same /graphql URL with ws:// or wss://",
        "SUBSCRIPTION_OVER_HTTP",
      );
    }
    if (counts.introspection && !this.mayIntrospect(viewer)) {
      return new ForbiddenError(
        this.config.introspection === "off"
          ? "Introspection is turned off on this hub (INTROSPECTION=off)"
          : "Introspection needs an admin API key on this hub (INTROSPECTION=admin)",
        "INTROSPECTION_DISABLED",
      );
    }
    // No single operation to run: GraphQL's own validation says why.
    if (!operation) return undefined;
    const shape = measureOperation(this.schema, request.document, operation, request.variables, this.listSizes);
    return this.over("depth", shape.depth) ?? this.over("cost", shape.cost) ?? this.over("introspection_cost", shape.introspectionCost);
  }

  private mayIntrospect(viewer: Viewer): boolean {
    switch (this.config.introspection) {
      case "any":
        return true;
      case "off":
        return false;
      case "admin":
        return isAdmin(viewer);
    }
  }

  private over(measure: ComplexityMeasure, actual: number): QueryTooComplexError | undefined {
    const limit = this.limitOf(measure);
    if (actual <= limit) return undefined;
    // A fragment that spreads another twice at each level can reach astronomical figures.
    const shown = Math.min(Math.ceil(actual), Number.MAX_SAFE_INTEGER);
    const figure = {
      aliases: `has ${shown} aliases`,
      fields: `has ${shown} fields`,
      depth: `nests ${shown} levels deep`,
      cost: `has an estimated cost of ${shown}`,
      introspection_cost: `has an estimated introspection cost of ${shown}`,
    }[measure];
    const hint = measure === "cost"
      ? `; each list counts its \`first\` (or ${this.config.defaultListSize} when it has none) times what it selects: ask for smaller pages or fewer nested lists`
      : "";
    return new QueryTooComplexError(`The query ${figure}, over the limit of ${limit} (${LIMIT_NAMES[measure]})${hint}`, {
      measure,
      limit,
      actual: shown,
    });
  }

  private limitOf(measure: ComplexityMeasure): number {
    switch (measure) {
      case "aliases":
        return this.config.maxAliases;
      case "fields":
        return this.config.maxFields;
      case "depth":
        return this.config.maxDepth;
      case "cost":
        return this.config.maxCost;
      case "introspection_cost":
        return this.introspectionBudget;
    }
  }

  /** What the standard introspection query, with every option, costs on this schema. */
  private fullIntrospectionCost(): number {
    const document = parse(
      getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }),
    );
    const operation = document.definitions[0] as OperationDefinitionNode;
    return measureOperation(this.schema, document, operation, undefined, this.listSizes).introspectionCost;
  }
}

/** The parsed document, or undefined when it does not parse: GraphQL reports that itself. */
export function parseDocument(query: string): DocumentNode | undefined {
  try {
    return parse(query);
  } catch {
    // Syntax errors (and documents nested deep enough to exhaust the stack) are GraphQL's to answer.
    return undefined;
  }
}

/** `{ code, …details }`: e.g. `{ code: "QUERY_TOO_COMPLEX", measure: "depth", limit: 10, actual: 12 }`. */
export function refusalExtensions(refusal: HubError): Record<string, unknown> {
  return { code: refusal.code, ...refusal.details };
}

/** The refusal as a GraphQL error; over HTTP it also carries the status Apollo answers with. */
export function refusalAsGraphqlError(refusal: HubError, transport: Transport): GraphQLError {
  return new GraphQLError(refusal.message, {
    extensions: { ...refusalExtensions(refusal), ...(transport === "http" ? { http: { status: refusal.httpStatus } } : {}) },
  });
}
