import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type DocumentNode } from "graphql";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

export interface GraphqlResponse<T> {
  status: number;
  headers?: Record<string, string>;
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string; field?: string; [key: string]: unknown } }>;
}

/** One GraphQL-over-HTTP request, with an API key if given. */
export async function graphql<T, V extends Record<string, unknown> = Record<string, never>>(
  url: string,
  document: TypedDocumentNode<T, V> | DocumentNode | string,
  options: { variables?: V; apiKey?: string; headers?: Record<string, string> } = {},
): Promise<GraphqlResponse<T>> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(options.apiKey ? { "x-api-key": options.apiKey } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query: typeof document === "string" ? document : print(document), variables: options.variables }),
  });
  const body = (await response.json()) as Omit<GraphqlResponse<T>, "status">;
  return { status: response.status, headers: Object.fromEntries(response.headers), ...body };
}

/** The data, or a thrown error naming the GraphQL errors: for steps that must succeed. */
export async function graphqlOk<T, V extends Record<string, unknown> = Record<string, never>>(
  url: string,
  document: TypedDocumentNode<T, V> | DocumentNode | string,
  options: { variables?: V; apiKey?: string } = {},
): Promise<T> {
  const result = await graphql(url, document, options);
  if (result.errors?.length || !result.data) throw new Error(`GraphQL failed: ${JSON.stringify(result.errors)}`);
  return result.data;
}

export function wsClient(url: string, apiKey?: string, options: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: apiKey ? { apiKey } : {},
    ...options,
  });
}

/** Collects a subscription's events; `next()` waits for the n-th with a deadline. */
export function subscribe<T>(client: Client, query: TypedDocumentNode<T, Record<string, unknown>> | DocumentNode | string, variables?: Record<string, unknown>) {
  const events: Array<{ data?: T | null; errors?: unknown }> = [];
  let error: unknown;
  let completed = false;
  const waiters: Array<() => void> = [];
  const notify = () => waiters.splice(0).forEach((wake) => wake());
  const dispose = client.subscribe<T>(
    { query: typeof query === "string" ? query : print(query), variables },
    {
      next: (value) => {
        events.push(value as { data?: T | null; errors?: unknown });
        notify();
      },
      error: (cause) => {
        error = cause;
        notify();
      },
      complete: () => {
        completed = true;
        notify();
      },
    },
  );
  return {
    events,
    get error() {
      return error;
    },
    get completed() {
      return completed;
    },
    dispose,
    async waitFor(predicate: (all: typeof events) => boolean, timeoutMs = 10_000): Promise<typeof events> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events)) {
        if (error) throw new Error(`subscription failed: ${JSON.stringify(error, Object.getOwnPropertyNames(error as object))}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`subscription: timed out after ${timeoutMs} ms with ${events.length} events`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return events;
    },
  };
}
