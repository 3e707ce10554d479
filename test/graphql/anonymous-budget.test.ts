import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { graphql } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";

/**
 * GraphQL calls without a key spend a budget per client IP (ANONYMOUS_RATE_LIMIT_PER_MINUTE),
 * counted in Postgres like the keys' budgets, so two api processes on one database share it.
 */

const BUDGET = 4;

let db: TestDatabase;
let first: TestHub;
let second: TestHub;

beforeAll(async () => {
  db = await createTestDatabase();
  const env = { ANONYMOUS_RATE_LIMIT_PER_MINUTE: String(BUDGET) };
  first = await startTestHub({ db, env });
  second = await startTestHub({ db, env: { ...env, HUB_ROLE: "api" } });
});
afterAll(async () => {
  await second?.stop();
  await first?.stop();
  await db?.drop();
});

describe("the anonymous GraphQL budget", () => {
  it("holds across two api processes sharing a database, answers 429 with Retry-After, and leaves keys alone", async () => {
    const answers = [];
    // Alternating: a per-process budget would let 2 × BUDGET through.
    for (let i = 0; i < BUDGET * 2; i++) answers.push(await graphql(i % 2 === 0 ? first.graphqlUrl : second.graphqlUrl, "{ __typename }"));
    expect(answers.slice(0, BUDGET).map((answer) => answer.status)).toEqual(Array(BUDGET).fill(200));
    expect(answers.slice(0, BUDGET).map((answer) => answer.data)).toEqual(Array(BUDGET).fill({ __typename: "Query" }));
    for (const refused of answers.slice(BUDGET)) {
      expect(refused.status).toBe(429);
      expect(refused.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
      expect(Number(refused.headers?.["retry-after"])).toBeGreaterThanOrEqual(1);
    }
    // The same address with a key spends the key's budget, not this one.
    const keyed = await graphql(first.graphqlUrl, "{ hub { role } }", { apiKey: first.adminKey });
    expect(keyed.status).toBe(200);
    expect(keyed.errors).toBeUndefined();
  });
});
