import { getIntrospectionQuery } from "graphql";
import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { graphql, wsClient } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { createOperator, type OperatorFixture } from "../helpers/inbound";

/**
 * INTROSPECTION=admin (the default) | any | off, on HTTP and graphql-ws alike. `__typename`
 * is not introspection: clients add it everywhere.
 */

let db: TestDatabase;
let adminOnly: TestHub;
let anyone: TestHub;
let off: TestHub;
let operator: OperatorFixture;

beforeAll(async () => {
  db = await createTestDatabase();
  adminOnly = await startTestHub({ db });
  [anyone, off] = await Promise.all([
    startTestHub({ db, env: { HUB_ROLE: "api", INTROSPECTION: "any" } }),
    startTestHub({ db, env: { HUB_ROLE: "api", INTROSPECTION: "off" } }),
  ]);
  operator = await createOperator(adminOnly);
});
afterAll(async () => {
  await Promise.all([anyone?.stop(), off?.stop()]);
  await adminOnly?.stop();
  await db?.drop();
});

const SCHEMA_QUERY = "{ __schema { queryType { name } } }";

function runOverWebSocket(client: Client, query: string): Promise<{ data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }> {
  return new Promise((resolve) => {
    client.subscribe({ query }, { next: (result) => resolve(result as never), error: (errors) => resolve({ errors: errors as never }), complete: () => undefined });
  });
}

describe("INTROSPECTION=admin (default)", () => {
  it("lets an admin key run the full introspection query (GraphiQL, codegen)", async () => {
    const full = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
    const result = await graphql<{ __schema: { types: unknown[] } }>(adminOnly.graphqlUrl, full, { apiKey: adminOnly.adminKey });
    expect(result.errors).toBeUndefined();
    expect(result.data?.__schema.types.length).toBeGreaterThan(50);
  });

  it("refuses operator keys and callers without a key with 403 INTROSPECTION_DISABLED", async () => {
    for (const apiKey of [operator.apiKey, undefined]) {
      const result = await graphql(adminOnly.graphqlUrl, SCHEMA_QUERY, { apiKey });
      expect(result.status).toBe(403);
      expect(result.errors?.[0]?.extensions?.code).toBe("INTROSPECTION_DISABLED");
      expect(result.errors?.[0]?.message).toBe("Introspection needs an admin API key on this hub (INTROSPECTION=admin)");
    }
    const byType = await graphql(adminOnly.graphqlUrl, '{ ...Peek } fragment Peek on Query { __type(name: "Conversion") { fields { name } } }', { apiKey: operator.apiKey });
    expect(byType.errors?.[0]?.extensions?.code).toBe("INTROSPECTION_DISABLED");
  });

  it("always allows __typename", async () => {
    const result = await graphql(adminOnly.graphqlUrl, "{ __typename hub { __typename role } }", { apiKey: operator.apiKey });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ __typename: "Query", hub: { __typename: "HubInfo", role: "all" } });
  });

  it("applies over graphql-ws too", async () => {
    const tenant = wsClient(adminOnly.websocketUrl, operator.apiKey);
    const admin = wsClient(adminOnly.websocketUrl, adminOnly.adminKey);
    try {
      const refused = await runOverWebSocket(tenant, SCHEMA_QUERY);
      expect(refused.errors?.[0]?.extensions?.code).toBe("INTROSPECTION_DISABLED");
      expect(await runOverWebSocket(admin, SCHEMA_QUERY)).toEqual({ data: { __schema: { queryType: { name: "Query" } } } });
    } finally {
      await Promise.all([tenant.dispose(), admin.dispose()]);
    }
  });

  it("bounds introspection by what two full introspections of the schema cost", async () => {
    // Each nested `fields` multiplies by the longest field list: about a million resolutions.
    const nested = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    const result = await graphql(adminOnly.graphqlUrl, nested, { apiKey: adminOnly.adminKey });
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", measure: "introspection_cost" });
  });
});

describe("INTROSPECTION=any", () => {
  it("lets every caller introspect, with or without a key", async () => {
    for (const apiKey of [operator.apiKey, undefined]) {
      const result = await graphql(anyone.graphqlUrl, SCHEMA_QUERY, { apiKey });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ __schema: { queryType: { name: "Query" } } });
    }
  });
});

describe("INTROSPECTION=off", () => {
  it("refuses even admin keys, over HTTP and graphql-ws", async () => {
    const result = await graphql(off.graphqlUrl, SCHEMA_QUERY, { apiKey: off.adminKey });
    expect(result.status).toBe(403);
    expect(result.errors?.[0]?.extensions?.code).toBe("INTROSPECTION_DISABLED");
    expect(result.errors?.[0]?.message).toBe("Introspection is turned off on this hub (INTROSPECTION=off)");
    const client = wsClient(off.websocketUrl, off.adminKey);
    try {
      expect((await runOverWebSocket(client, SCHEMA_QUERY)).errors?.[0]?.extensions?.code).toBe("INTROSPECTION_DISABLED");
    } finally {
      await client.dispose();
    }
  });
});
