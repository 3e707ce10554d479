import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateApiKeyDocument } from "../generated/graphql";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { graphql, graphqlOk } from "../helpers/graphql";
import { generateAdminKey, TEST_ENCRYPTION_KEY } from "../helpers/hub";
import { spawnHub, waitUntilListening, type HubProcess } from "../helpers/hub-process";

const BUDGET = 6;

let db: TestDatabase;
const processes: HubProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(processes.map((process) => process.stop()));
  await db?.drop();
});

describe("rate limits across processes", () => {
  it("a key's budget holds across two api processes sharing one database", async () => {
    const env = {
      DATABASE_URL: db.url,
      HUB_ROLE: "api",
      HUB_ADMIN_KEY: generateAdminKey(),
      HUB_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    };
    const [a, b] = [spawnHub(env), spawnHub(env)];
    processes.push(a!, b!);
    const [urlsA, urlsB] = await Promise.all([waitUntilListening(a!), waitUntilListening(b!)]);

    const created = await graphqlOk(urlsA.graphql, CreateApiKeyDocument, {
      apiKey: env.HUB_ADMIN_KEY,
      variables: { input: { name: "shared budget", role: "ADMIN", rateLimitPerMinute: BUDGET } },
    });
    const key = created.createApiKey.secret;

    // Alternate between the processes: a per-process limit would let 2 × BUDGET through.
    const statuses: number[] = [];
    for (let i = 0; i < BUDGET * 2; i++) {
      const url = i % 2 === 0 ? urlsA.graphql : urlsB.graphql;
      statuses.push((await graphql(url, "query Spend { hub { role } }", { apiKey: key })).status);
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(BUDGET);
    // Both processes refuse once the shared budget is spent.
    expect(statuses.slice(BUDGET)).toEqual(Array(BUDGET).fill(429));
  });
});
