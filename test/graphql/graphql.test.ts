import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphql, subscribe, wsClient } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub?.stop();
});

const HUB_QUERY = "query Hub { hub { version role now } }";

describe("GraphQL over HTTP", () => {
  it("answers a query for a valid key", async () => {
    const result = await graphql<{ hub: { version: string; role: string; now: string } }>(hub.graphqlUrl, HUB_QUERY, { apiKey: hub.adminKey });
    expect(result.errors).toBeUndefined();
    expect(result.data?.hub.role).toBe("all");
    expect(result.data?.hub.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Math.abs(Date.parse(result.data!.hub.now) - Date.now())).toBeLessThan(60_000);
  });

  it("accepts the key as a bearer token too", async () => {
    const result = await graphql(hub.graphqlUrl, HUB_QUERY, { headers: { authorization: `Bearer ${hub.adminKey}` } });
    expect(result.errors).toBeUndefined();
  });

  it("refuses a missing key with UNAUTHENTICATED", async () => {
    const result = await graphql(hub.graphqlUrl, HUB_QUERY);
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(result.data).toBeNull();
  });

  it("refuses an unknown key with 401 before running anything", async () => {
    const result = await graphql(hub.graphqlUrl, HUB_QUERY, { apiKey: "ahk_not-a-real-key" });
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe("INVALID_API_KEY");
  });

  it("reports bad input with BAD_USER_INPUT-class codes, not internal errors", async () => {
    const result = await graphql(hub.graphqlUrl, "query { hub { nope } }", { apiKey: hub.adminKey });
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });
});

describe("GraphQL over WebSocket (graphql-ws)", () => {
  it("round-trips a subscription on the same path", async () => {
    const client = wsClient(hub.websocketUrl, hub.adminKey);
    try {
      const sub = subscribe<{ heartbeat: { role: string; now: string } }>(client, "subscription { heartbeat(intervalMs: 100) { role now } }");
      const events = await sub.waitFor((all) => all.length >= 2);
      expect(events[0]?.data?.heartbeat.role).toBe("all");
      expect(Date.parse(events[1]!.data!.heartbeat.now)).toBeGreaterThanOrEqual(Date.parse(events[0]!.data!.heartbeat.now));
      sub.dispose();
    } finally {
      await client.dispose();
    }
  });

  it("refuses a connection with an unknown key", async () => {
    const closed = new Promise<number>((resolve) => {
      const client = wsClient(hub.websocketUrl, "ahk_wrong", { on: { closed: (event) => resolve((event as { code: number }).code) } });
      subscribe(client, "subscription { heartbeat { role } }");
    });
    expect(await closed).toBe(4401);
  });
});
