/** A minimal GraphQL-over-HTTP client for setting the bench up through the hub's public API. */
export class GraphqlError extends Error {
  constructor(
    message: string,
    readonly errors: unknown,
  ) {
    super(message);
    this.name = "GraphqlError";
  }
}

export interface GraphqlClient {
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

export function graphqlClient(url: string, apiKey: string): GraphqlClient {
  return {
    request: async <T>(query: string, variables?: Record<string, unknown>) => {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": apiKey },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(60_000),
      });
      const body = (await response.json()) as { data?: T; errors?: Array<{ message: string }> };
      if (body.errors?.length || !body.data) {
        const first = body.errors?.[0]?.message ?? `HTTP ${response.status}`;
        throw new GraphqlError(`GraphQL request failed: ${first}`, body.errors);
      }
      return body.data;
    },
  };
}
