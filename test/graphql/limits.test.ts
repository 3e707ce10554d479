import { createHash } from "node:crypto";
import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RequestLogDocument } from "../generated/graphql";
import { graphql, graphqlOk, wsClient } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { createOperator, type OperatorFixture } from "../helpers/inbound";
import { waitFor } from "../helpers/wait-for";

/**
 * Issue 10, hole 2: every GraphQL document is measured before it is validated or run,
 * over HTTP and graphql-ws alike, and refused with QUERY_TOO_COMPLEX naming the measure,
 * the limit and the figure. These run with the default limits.
 */

let hub: TestHub;
let operator: OperatorFixture;

beforeAll(async () => {
  hub = await startTestHub();
  operator = await createOperator(hub);
});
afterAll(async () => {
  await hub?.stop();
});

/** `deliveries { nodes { event { deliveries { … } } } }` repeated: `levels` field levels in all. */
function nestedDeliveries(cycles: number, leaf = "id"): string {
  let inner = leaf;
  for (let i = 0; i < cycles; i++) inner = `event { deliveries { ${inner} } }`;
  return `{ deliveries { nodes { ${inner} } } }`;
}

/** One operation over graphql-ws: its first result, or the error that ended it. */
function runOverWebSocket(client: Client, query: string): Promise<{ data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }> {
  return new Promise((resolve) => {
    client.subscribe(
      { query },
      {
        next: (result) => resolve(result as never),
        error: (errors) => resolve({ errors: errors as never }),
        complete: () => undefined,
      },
    );
  });
}

async function affiliateCount(): Promise<number> {
  return (await hub.db.query<{ count: number }>("select count(*)::int as count from affiliate")).rows[0]!.count;
}

describe("GraphQL limits over HTTP", () => {
  it("refuses a document nested deeper than GRAPHQL_MAX_DEPTH (10)", async () => {
    // deliveries, nodes, then event/deliveries four times, then id: 11 levels.
    const result = await graphql(hub.graphqlUrl, nestedDeliveries(4), { apiKey: operator.apiKey });
    expect(result.status).toBe(400);
    expect(result.data).toBeUndefined();
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]?.extensions).toEqual({ code: "QUERY_TOO_COMPLEX", measure: "depth", limit: 10, actual: 11 });
    expect(result.errors?.[0]?.message).toBe("The query nests 11 levels deep, over the limit of 10 (GRAPHQL_MAX_DEPTH)");
  });

  it("refuses more aliases than GRAPHQL_MAX_ALIASES (30), and runs none of them", async () => {
    const before = await affiliateCount();
    const mutations = Array.from({ length: 31 }, (_, i) => `a${i}: createAffiliate(input: { name: "alias ${i}" }) { id }`).join("\n");
    const result = await graphql(hub.graphqlUrl, `mutation { ${mutations} }`, { apiKey: hub.adminKey });
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions).toEqual({ code: "QUERY_TOO_COMPLEX", measure: "aliases", limit: 30, actual: 31 });
    expect(await affiliateCount()).toBe(before);
    // Thirty are fine.
    const thirty = await graphql(hub.graphqlUrl, `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: hub { now }`).join(" ")} }`, { apiKey: hub.adminKey });
    expect(thirty.errors).toBeUndefined();
  });

  it("refuses the probe's 55 KiB document of 3 000 aliases without a key", async () => {
    const query = `{ ${Array.from({ length: 3_000 }, (_, i) => `a${i}: hub { now }`).join(" ")} }`;
    expect(query.length).toBeGreaterThan(50_000);
    const result = await graphql(hub.graphqlUrl, query);
    expect(result.status).toBe(400);
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", measure: "aliases", actual: 3_000 });
  });

  it("refuses more fields than GRAPHQL_MAX_FIELDS (500), before GraphQL validates them", async () => {
    // 500 repeats of one field: validation alone would compare every pair.
    const result = await graphql(hub.graphqlUrl, `{ hub { ${"now ".repeat(500)} } }`, { apiKey: operator.apiKey });
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions).toEqual({ code: "QUERY_TOO_COMPLEX", measure: "fields", limit: 500, actual: 501 });
  });

  it("refuses an estimated cost over GRAPHQL_MAX_COST (50 000): lists count first, or 10", async () => {
    // 50 deliveries (the default first) × 10 × 10 × 10 attempts, each level with its own fields.
    const expensive = nestedDeliveries(2, "attempts { id }");
    const result = await graphql(hub.graphqlUrl, expensive, { apiKey: operator.apiKey });
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions).toEqual({ code: "QUERY_TOO_COMPLEX", measure: "cost", limit: 50_000, actual: 56_102 });
    expect(result.errors?.[0]?.message).toContain("GRAPHQL_MAX_COST");
    // The same shape on smaller pages runs.
    const smaller = await graphql(hub.graphqlUrl, expensive.replace("deliveries {", "deliveries(first: 40) {"), { apiKey: operator.apiKey });
    expect(smaller.status).toBe(200);
    expect(smaller.errors).toBeUndefined();
  });

  it("counts first from the variables", async () => {
    const query = "query Pages($n: Int!) { deliveries(first: $n) { nodes { id event { deliveries { id attempts { id } } } } } }";
    const big = await graphql(hub.graphqlUrl, query, { apiKey: operator.apiKey, variables: { n: 500 } });
    expect(big.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", measure: "cost", actual: 61_502 });
    const small = await graphql(hub.graphqlUrl, query, { apiKey: operator.apiKey, variables: { n: 5 } });
    expect(small.errors).toBeUndefined();
  });

  it("checks a persisted query again with each request's variables", async () => {
    const query = "query Persisted($n: Int!) { deliveries(first: $n) { nodes { id event { deliveries { id attempts { id } } } } } }";
    const persistedQuery = { version: 1, sha256Hash: createHash("sha256").update(query).digest("hex") };
    const send = (body: Record<string, unknown>) =>
      fetch(hub.graphqlUrl, { method: "POST", headers: { "content-type": "application/json", "x-api-key": operator.apiKey }, body: JSON.stringify(body) });
    const registered = await send({ query, variables: { n: 1 }, extensions: { persistedQuery } });
    expect(((await registered.json()) as { errors?: unknown }).errors).toBeUndefined();
    // By hash alone: the document never passes the early check, only the one after validation.
    const byHash = await send({ variables: { n: 500 }, extensions: { persistedQuery } });
    const answer = (await byHash.json()) as { errors?: Array<{ extensions?: Record<string, unknown> }> };
    expect(byHash.status).toBe(400);
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", measure: "cost", limit: 50_000 });
  });

  it("logs each refusal with its code", async () => {
    await graphql(hub.graphqlUrl, "query TooDeep " + nestedDeliveries(4), { apiKey: operator.apiKey });
    const log = await waitFor(async () => {
      const { requestLog } = await graphqlOk(hub.graphqlUrl, RequestLogDocument, { apiKey: hub.adminKey, variables: { filter: { errorCode: "QUERY_TOO_COMPLEX" } } });
      return requestLog.nodes.find((entry) => entry.operation === "TooDeep");
    }, { what: "the refusal in the request log" });
    expect(log).toMatchObject({ method: "POST", route: "/graphql", status: 400, errorCode: "QUERY_TOO_COMPLEX" });
  });
});

describe("subscriptions over HTTP", () => {
  it("are answered 400 SUBSCRIPTION_OVER_HTTP, pointing at the WebSocket", async () => {
    const result = await graphql(hub.graphqlUrl, "subscription { heartbeat(intervalMs: 1000) { now } }", { apiKey: hub.adminKey });
    expect(result.status).toBe(400);
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]?.extensions?.code).toBe("SUBSCRIPTION_OVER_HTTP");
    expect(result.errors?.[0]?.message).toMatch(/WebSocket.*graphql-ws/);
  });
});

describe("GraphQL limits over graphql-ws", () => {
  it("refuses the same documents, per operation, and the connection stays usable", async () => {
    const client = wsClient(hub.websocketUrl, operator.apiKey);
    try {
      const deep = await runOverWebSocket(client, nestedDeliveries(4));
      expect(deep.errors?.[0]?.extensions).toEqual({ code: "QUERY_TOO_COMPLEX", measure: "depth", limit: 10, actual: 11 });
      const aliases = await runOverWebSocket(client, `subscription { ${Array.from({ length: 31 }, (_, i) => `a${i}: heartbeat { now }`).join(" ")} }`);
      expect(aliases.errors?.[0]?.extensions).toEqual({ code: "QUERY_TOO_COMPLEX", measure: "aliases", limit: 30, actual: 31 });
      const costly = await runOverWebSocket(client, nestedDeliveries(2, "attempts { id }"));
      expect(costly.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", measure: "cost", actual: 56_102 });
      const fine = await runOverWebSocket(client, "{ hub { role } }");
      expect(fine).toEqual({ data: { hub: { role: "all" } } });
    } finally {
      await client.dispose();
    }
  });
});
