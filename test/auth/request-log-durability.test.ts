import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateApiKeyDocument, CreateOperatorDocument, RecordConversionDocument } from "../generated/graphql";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { graphqlOk } from "../helpers/graphql";
import { spawnHub, waitUntilListening, type HubProcess } from "../helpers/hub-process";
import { generateAdminKey, startTestHub, TEST_ENCRYPTION_KEY, type TestHub } from "../helpers/hub";
import { createOperator, postJson, signedGraphql, type OperatorFixture } from "../helpers/inbound";
import { waitFor } from "../helpers/wait-for";

/**
 * Issue 10: the request log is written in batches, so a crash lost the buffered entries,
 * accepted postbacks included. A call that changes money now writes its entry in the
 * transaction of the change: an accepted postback always has its log line.
 */

interface Operator {
  apiKey: string;
  secret: string;
}

async function operatorOf(graphqlUrl: string, adminKey: string): Promise<Operator> {
  const created = await graphqlOk(graphqlUrl, CreateOperatorDocument, { apiKey: adminKey, variables: { input: { name: "Crash casino", requireSignature: true } } });
  const key = await graphqlOk(graphqlUrl, CreateApiKeyDocument, {
    apiKey: adminKey,
    variables: { input: { name: "crash key", role: "OPERATOR", operatorId: created.createOperator.operator.id } },
  });
  return { apiKey: key.createApiKey.secret, secret: created.createOperator.postbackSecret };
}

describe("money calls' log lines survive a SIGKILL", () => {
  let db: TestDatabase;
  let hub: HubProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await hub?.stop("SIGKILL");
    await db?.drop();
  });

  it("every conversion written before the kill has its request-log entry, while the buffered rest may be lost", async () => {
    const adminKey = generateAdminKey();
    hub = spawnHub({
      DATABASE_URL: db.url,
      MIGRATE_ON_START: "false",
      HUB_ROLE: "api",
      HUB_ADMIN_KEY: adminKey,
      HUB_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      // Nothing batched reaches the table before the kill: only what the money path writes itself.
      REQUEST_LOG_FLUSH_INTERVAL_MS: "600000",
      RATE_LIMIT_PER_MINUTE: "1000000",
    });
    const urls = await waitUntilListening(hub);
    const base = urls.graphql.replace(/\/graphql$/, "");
    const operator = await operatorOf(urls.graphql, adminKey);

    const answered: string[] = [];
    let sequence = 0;
    let stopped = false;
    const client = async (lane: number) => {
      while (!stopped) {
        const requestId = `crash-${lane}-${++sequence}`;
        try {
          const response =
            sequence % 10 === 0
              ? await signedGraphql(urls.graphql, print(RecordConversionDocument), {
                  apiKey: operator.apiKey,
                  secret: operator.secret,
                  variables: { input: { clickId: requestId, event: "registration" } },
                  headers: { "x-request-id": requestId },
                })
              : await postJson(base, { click_id: requestId, event: "registration" }, { apiKey: operator.apiKey, secret: operator.secret, headers: { "x-request-id": requestId } });
          if (response.status === 200) answered.push(requestId);
        } catch {
          return; // the hub is gone
        }
      }
    };
    const lanes = Array.from({ length: 8 }, (_, lane) => client(lane));
    await waitFor(() => answered.length >= 200, { timeoutMs: 60_000, what: "200 answered money calls" });
    hub.child.kill("SIGKILL");
    expect((await hub.exited).signal).toBe("SIGKILL");
    stopped = true;
    await Promise.all(lanes);

    const { rows } = await db.query<{ request_id: string; logged: boolean; status: number | null; route: string | null }>(
      `select c.raw_request->>'requestId' as request_id, l.id is not null as logged, l.status, l.route
         from conversion c left join request_log l on l.request_id = c.raw_request->>'requestId'`,
    );
    const byRequest = new Map(rows.map((row) => [row.request_id, row]));
    // Everything answered 2xx was committed, and so was its log line; so was anything committed whose answer never left.
    expect(answered.filter((requestId) => !byRequest.has(requestId))).toEqual([]);
    expect(rows.filter((row) => !row.logged)).toEqual([]);
    expect(new Set(rows.map((row) => row.route))).toEqual(new Set(["/postback", "/graphql"]));
    expect(rows.every((row) => row.status === 200)).toBe(true);
    // The batched path was not flushed before the kill (the admin's set-up calls are not there), so the lines above came with the money.
    const { rows: others } = await db.query<{ count: number }>("select count(*)::int as count from request_log where route = '/graphql' and operation like 'Create%'");
    expect(others[0]!.count).toBe(0);
  });
});

describe("money calls are logged once, with their outcome", () => {
  let hub: TestHub;
  let operator: OperatorFixture;

  beforeAll(async () => {
    hub = await startTestHub({ env: { REQUEST_LOG_FLUSH_INTERVAL_MS: "50" } });
    operator = await createOperator(hub);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  async function entriesOf(requestId: string) {
    return (await hub.db.query<{ status: number; error_code: string | null; route: string; operation: string | null; api_key_id: string }>(
      "select status, error_code, route, operation, api_key_id from request_log where request_id = $1",
      [requestId],
    )).rows;
  }

  it("accepted, duplicate and status-changed postbacks and recordConversion: one entry each; 409s on the ordinary path", async () => {
    const signed = (requestId: string) => ({ apiKey: operator.apiKey, secret: operator.postbackSecret, headers: { "x-request-id": requestId } });
    const eventId = `once-${Date.now()}`;
    const calls: Array<[string, () => Promise<{ status: number }>, number, string | null]> = [
      ["once-accepted", () => postJson(hub.urls.http, { event_id: eventId, click_id: "c", event: "ftd", status: "pending" }, signed("once-accepted")), 200, null],
      ["once-duplicate", () => postJson(hub.urls.http, { event_id: eventId, click_id: "c", event: "ftd", status: "pending" }, signed("once-duplicate")), 200, null],
      ["once-changed", () => postJson(hub.urls.http, { event_id: eventId, click_id: "c", event: "ftd", status: "approved" }, signed("once-changed")), 200, null],
      ["once-409", () => postJson(hub.urls.http, { event_id: eventId, click_id: "c", event: "ftd", status: "pending" }, signed("once-409")), 409, "INVALID_TRANSITION"],
      [
        "once-graphql",
        () =>
          signedGraphql(hub.graphqlUrl, print(RecordConversionDocument), {
            apiKey: operator.apiKey,
            secret: operator.postbackSecret,
            variables: { input: { eventId, clickId: "c", event: "ftd", status: "REVERSED" } },
            headers: { "x-request-id": "once-graphql" },
          }),
        200,
        null,
      ],
    ];
    for (const [requestId, send, status, errorCode] of calls) {
      expect((await send()).status, requestId).toBe(status);
      const entries = await waitFor(async () => {
        const found = await entriesOf(requestId);
        return found.length > 0 ? found : undefined;
      }, { what: `the entry of ${requestId}` });
      expect(entries, requestId).toEqual([expect.objectContaining({ status, error_code: errorCode, api_key_id: operator.apiKeyId })]);
    }
    expect((await entriesOf("once-graphql"))[0]).toMatchObject({ route: "/graphql", operation: "RecordConversion" });
    // Once a later call's entry is in (the batch is written in order), the batched path has had its say: still one each.
    await fetch(hub.graphqlUrl, { method: "POST", headers: { "content-type": "application/json", "x-api-key": operator.apiKey, "x-request-id": "once-barrier" }, body: '{"query":"{ hub { now } }"}' });
    await waitFor(async () => (await entriesOf("once-barrier")).length > 0, { what: "a later batched entry" });
    for (const [requestId] of calls) expect(await entriesOf(requestId), requestId).toHaveLength(1);
  });
});
