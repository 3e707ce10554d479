import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RotatePostbackSecretDocument } from "../generated/graphql";
import { graphqlOk, wsClient } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { createOperator, nowSeconds, postJson, sign, signedGraphql, writtenRows, type OperatorFixture } from "../helpers/inbound";
import { waitFor } from "../helpers/wait-for";

/**
 * Issue 10, hole 3: for an operator with requireSignature, the operator key alone must not
 * record or reverse money over GraphQL; the HTTP body has to carry the postback signature.
 */
let hub: TestHub;
let operator: OperatorFixture;

beforeAll(async () => {
  hub = await startTestHub({ env: { REQUEST_LOG_FLUSH_INTERVAL_MS: "50" } });
  operator = await createOperator(hub);
});
afterAll(async () => {
  await hub?.stop();
});

const RECORD = "mutation Record($input: RecordConversionInput!) { recordConversion(input: $input) { outcome conversion { id status } } }";
let sequence = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++sequence}`;

type RecordAnswer = { recordConversion: { outcome: string; conversion: { id: string; status: string } } };

/** A signed ftd postback: the money that a forged reversal would take back. */
async function approvedDeposit(fixture: OperatorFixture): Promise<{ eventId: string; clickId: string; conversionId: string }> {
  const eventId = unique("dep");
  const clickId = unique("click");
  const response = await postJson(hub.urls.http, { event_id: eventId, click_id: clickId, event: "ftd", amount: "50.00", currency: "EUR" }, { apiKey: fixture.apiKey, secret: fixture.postbackSecret });
  expect(response.status).toBe(200);
  return { eventId, clickId, conversionId: response.body.conversionId! };
}

async function statusOf(conversionId: string): Promise<string> {
  const { rows } = await hub.db.query<{ status: string }>("select status from conversion where id = $1", [conversionId]);
  return rows[0]!.status;
}

describe("recordConversion for an operator that requires signatures", () => {
  it("refuses the key alone (MISSING_SIGNATURE) for a new conversion and for a reversal, writing nothing", async () => {
    const deposit = await approvedDeposit(operator);
    const before = await writtenRows(hub);

    const reversal = await signedGraphql(hub.graphqlUrl, RECORD, {
      apiKey: operator.apiKey,
      variables: { input: { eventId: deposit.eventId, clickId: deposit.clickId, event: "ftd", status: "REVERSED" } },
    });
    expect(reversal.errors?.[0]?.extensions?.code).toBe("MISSING_SIGNATURE");
    expect(reversal.data ?? null).toBeNull();

    const forged = await signedGraphql(hub.graphqlUrl, RECORD, { apiKey: operator.apiKey, variables: { input: { clickId: unique("click"), event: "ftd", amount: "999", currency: "EUR" } } });
    expect(forged.errors?.[0]?.extensions?.code).toBe("MISSING_SIGNATURE");

    expect(await statusOf(deposit.conversionId)).toBe("approved");
    expect(await writtenRows(hub)).toEqual(before);
  });

  it("refuses a wrong, tampered, malformed or stale signature with its code, writing nothing", async () => {
    const deposit = await approvedDeposit(operator);
    const before = await writtenRows(hub);
    const variables = { input: { eventId: deposit.eventId, clickId: deposit.clickId, event: "ftd", status: "REVERSED" } };
    const cases: Array<[string, Parameters<typeof signedGraphql>[2]]> = [
      ["INVALID_SIGNATURE", { apiKey: operator.apiKey, secret: "pbs_not-the-secret", variables }],
      // Signed for a pending status, sent as a reversal.
      ["INVALID_SIGNATURE", { apiKey: operator.apiKey, secret: operator.postbackSecret, variables, tamper: (body) => body.replace("REVERSED", "REJECTED") }],
      ["INVALID_SIGNATURE", { apiKey: operator.apiKey, signature: "sha256=abc", variables }],
      ["SIGNATURE_EXPIRED", { apiKey: operator.apiKey, secret: operator.postbackSecret, timestamp: nowSeconds() - 3_600, variables }],
    ];
    for (const [code, options] of cases) {
      const answer = await signedGraphql(hub.graphqlUrl, RECORD, options);
      expect(answer.errors?.[0]?.extensions?.code, code).toBe(code);
      expect(answer.data ?? null).toBeNull();
    }
    expect(await statusOf(deposit.conversionId)).toBe("approved");
    expect(await writtenRows(hub)).toEqual(before);
  });

  it("accepts the body signed with the operator's secret, as a postback would be", async () => {
    const deposit = await approvedDeposit(operator);
    const answer = await signedGraphql<RecordAnswer>(hub.graphqlUrl, RECORD, {
      apiKey: operator.apiKey,
      secret: operator.postbackSecret,
      variables: { input: { eventId: deposit.eventId, clickId: deposit.clickId, event: "ftd", status: "REVERSED" } },
    });
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.recordConversion).toEqual({ outcome: "STATUS_CHANGED", conversion: { id: deposit.conversionId, status: "REVERSED" } });
    expect(await statusOf(deposit.conversionId)).toBe("reversed");
  });

  it("accepts both secrets during a rotation's grace period, then only the new one", async () => {
    const rotating = await createOperator(hub);
    const input = () => ({ input: { clickId: unique("click"), event: "registration" } });
    const { rotatePostbackSecret } = await graphqlOk(hub.graphqlUrl, RotatePostbackSecretDocument, { apiKey: hub.adminKey, variables: { operatorId: rotating.operatorId, gracePeriodHours: 1 } });
    for (const secret of [rotating.postbackSecret, rotatePostbackSecret.postbackSecret]) {
      const answer = await signedGraphql<RecordAnswer>(hub.graphqlUrl, RECORD, { apiKey: rotating.apiKey, secret, variables: input() });
      expect(answer.data?.recordConversion.outcome).toBe("ACCEPTED");
    }
    await graphqlOk(hub.graphqlUrl, RotatePostbackSecretDocument, { apiKey: hub.adminKey, variables: { operatorId: rotating.operatorId, gracePeriodHours: 0 } });
    const stale = await signedGraphql(hub.graphqlUrl, RECORD, { apiKey: rotating.apiKey, secret: rotatePostbackSecret.postbackSecret, variables: input() });
    expect(stale.errors?.[0]?.extensions?.code).toBe("INVALID_SIGNATURE");
  });

  it("lets queries through on the key alone, and admin keys and unsigned operators record without a signature", async () => {
    const reading = await signedGraphql<{ conversions: { nodes: unknown[] } }>(hub.graphqlUrl, "{ conversions(first: 1) { nodes { id } } }", { apiKey: operator.apiKey });
    expect(reading.errors).toBeUndefined();
    expect(reading.data?.conversions.nodes).toHaveLength(1);

    const byAdmin = await signedGraphql<RecordAnswer>(hub.graphqlUrl, RECORD, { apiKey: hub.adminKey, variables: { input: { operatorId: operator.operatorId, clickId: unique("click"), event: "registration" } } });
    expect(byAdmin.data?.recordConversion.outcome).toBe("ACCEPTED");

    const unsignedOperator = await createOperator(hub, { requireSignature: false });
    const byUnsigned = await signedGraphql<RecordAnswer>(hub.graphqlUrl, RECORD, { apiKey: unsignedOperator.apiKey, variables: { input: { clickId: unique("click"), event: "registration" } } });
    expect(byUnsigned.data?.recordConversion.outcome).toBe("ACCEPTED");
  });

  it("logs the refusal with its code", async () => {
    const requestId = unique("unsigned-gql");
    const response = await fetch(hub.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": operator.apiKey, "x-request-id": requestId },
      body: JSON.stringify({ query: RECORD, variables: { input: { clickId: "c", event: "ftd" } } }),
    });
    expect(((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe("MISSING_SIGNATURE");
    const entry = await waitFor(
      async () => (await hub.db.query<{ error_code: string; operation: string }>("select error_code, operation from request_log where request_id = $1", [requestId])).rows[0],
      { what: "the refusal in the request log" },
    );
    expect(entry).toEqual({ error_code: "MISSING_SIGNATURE", operation: "Record" });
  });

  it("refuses it over graphql-ws, which has no raw body to sign (MISSING_SIGNATURE); queries still work there", async () => {
    const client = wsClient(hub.websocketUrl, operator.apiKey);
    const run = (query: string, variables?: Record<string, unknown>) =>
      new Promise<{ data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> }>((resolve, reject) => {
        let result: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> } = {};
        client.subscribe({ query, variables }, { next: (value) => (result = value as typeof result), error: reject, complete: () => resolve(result) });
      });
    try {
      const before = await writtenRows(hub);
      const refused = await run(RECORD, { input: { clickId: unique("click"), event: "ftd" } });
      expect(refused.errors?.[0]?.extensions?.code).toBe("MISSING_SIGNATURE");
      expect(refused.errors?.[0]?.message).toMatch(/WebSocket/i);
      expect(await writtenRows(hub)).toEqual(before);
      const read = await run("{ conversions(first: 1) { nodes { id } } }");
      expect(read.errors).toBeUndefined();
    } finally {
      await client.dispose();
    }
  });
});

describe("GraphQL's JSON body, now kept raw for signatures", () => {
  const post = (body: string, contentType = "application/json") =>
    fetch(hub.graphqlUrl, { method: "POST", headers: { "content-type": contentType, "x-api-key": hub.adminKey }, body });

  it("keeps the body limit, the JSON errors and the prototype-poisoning refusal", async () => {
    expect((await post(JSON.stringify({ query: "{ hub { now } }", padding: "x".repeat(70 * 1024) }))).status).toBe(413);
    expect((await post('{"query": ')).status).toBe(400);
    expect((await post('{"query":"{ hub { now } }","__proto__":{"polluted":true}}')).status).toBe(400);
    const charset = await post(JSON.stringify({ query: "{ hub { role } }" }), "application/json; charset=utf-8");
    expect(await charset.json()).toEqual({ data: { hub: { role: "all" } } });
  });

  it("verifies the signature over the bytes as sent, whatever their spacing or content-type parameters", async () => {
    const deposit = await approvedDeposit(operator);
    const body = `{ "variables" : {"input":{"eventId":"${deposit.eventId}","clickId":"${deposit.clickId}","event":"ftd","status":"REVERSED"}},\n  "query": "${RECORD}" }`;
    const timestamp = nowSeconds();
    const response = await fetch(hub.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8", "x-api-key": operator.apiKey, "x-hub-timestamp": String(timestamp), "x-hub-signature": sign(operator.postbackSecret, timestamp, body) },
      body,
    });
    expect(((await response.json()) as { data: RecordAnswer }).data.recordConversion.outcome).toBe("STATUS_CHANGED");
  });
});

describe("the README's signed recordConversion example", () => {
  const ROOT = path.resolve(__dirname, "../..");
  const MARKER = "# recordConversion over GraphQL, signed";

  function exampleFromReadme(): string {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const block = readme.split("```sh\n").map((part) => part.split("\n```")[0]!).find((part) => part.startsWith(MARKER));
    if (!block) throw new Error(`README has no sh block starting with "${MARKER}"`);
    return block;
  }

  it("reverses the deposit of the README's postback example with curl and openssl, against a live hub", async () => {
    // The README's POST example records dep-9001 for c-123; do the same, then run the GraphQL example verbatim.
    const readmeOperator = await createOperator(hub);
    const recorded = await postJson(
      hub.urls.http,
      { click_id: "c-123", customer_id: "player-42", event: "ftd", event_id: "dep-9001", amount: "50.00", currency: "EUR" },
      { apiKey: readmeOperator.apiKey, secret: readmeOperator.postbackSecret },
    );
    expect(recorded.status).toBe(200);
    const { stdout } = await promisify(execFile)("bash", ["-euo", "pipefail", "-c", exampleFromReadme()], {
      env: { PATH: process.env.PATH, HUB: hub.urls.http, HUB_KEY: readmeOperator.apiKey, PB_SECRET: readmeOperator.postbackSecret },
      timeout: 20_000,
    });
    const answer = JSON.parse(stdout) as { data: RecordAnswer; errors?: unknown };
    expect(answer.errors).toBeUndefined();
    expect(answer.data.recordConversion).toEqual({ outcome: "STATUS_CHANGED", conversion: { id: recorded.body.conversionId, status: "REVERSED" } });
  });
});
