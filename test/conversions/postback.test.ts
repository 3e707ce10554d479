import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConversionDocument, RevokeApiKeyDocument, RotatePostbackSecretDocument } from "../generated/graphql";
import { graphqlOk } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import {
  createAffiliate,
  createKey,
  createOperator,
  getPostback,
  nowSeconds,
  postJson,
  postPostback,
  sign,
  writtenRows,
  type OperatorFixture,
  type PostbackResponse,
} from "../helpers/inbound";
import { waitFor } from "../helpers/wait-for";

let hub: TestHub;
let base: string;
let operator: OperatorFixture;

beforeAll(async () => {
  hub = await startTestHub({ env: { REQUEST_LOG_FLUSH_INTERVAL_MS: "50" } });
  base = hub.urls.http;
  operator = await createOperator(hub);
});
afterAll(async () => {
  await hub?.stop();
});

let sequence = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++sequence}`;

function signed(extra: Partial<{ apiKey: string; secret: string }> = {}) {
  return { apiKey: operator.apiKey, secret: operator.postbackSecret, ...extra };
}

/** Runs a refused request and proves it wrote nothing but its request-log entry. */
async function refused(send: () => Promise<PostbackResponse>, status: number, code: string, field?: string): Promise<PostbackResponse> {
  const before = await writtenRows(hub);
  const response = await send();
  expect({ status: response.status, code: response.body.error?.code }).toEqual({ status, code });
  if (field !== undefined) expect(response.body.error?.field).toBe(field);
  expect(response.body.error?.message).toEqual(expect.any(String));
  expect(await writtenRows(hub)).toEqual(before);
  return response;
}

async function eventsFor(conversionId: string) {
  const { rows } = await hub.db.query<{ type: string; payload: Record<string, unknown>; operator_id: string; affiliate_id: string | null }>(
    "select type, payload, operator_id, affiliate_id from event where payload->>'conversionId' = $1 order by created_at, id",
    [conversionId],
  );
  return rows;
}

describe("signed postbacks", () => {
  it("accepts a signed GET (headers) and keeps unknown parameters with the raw request, never the key", async () => {
    const clickId = unique("click");
    const response = await getPostback(
      base,
      { click_id: clickId, event: "registration", sub1: "a b&c", network_ref: "n-42" },
      signed(),
    );
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: "accepted", conversionId: expect.any(String), attributed: false, conversionStatus: "approved" });

    const { conversion } = await graphqlOk(hub.graphqlUrl, ConversionDocument, { apiKey: operator.apiKey, variables: { id: response.body.conversionId! } });
    expect(conversion).toMatchObject({ clickId, event: "registration", status: "APPROVED", attributed: false, sub1: "a b&c", source: "POSTBACK" });
    const raw = conversion.rawRequest as { method: string; parameters: Record<string, unknown>; signature: string };
    expect(raw.method).toBe("GET");
    expect(raw.parameters).toEqual({ click_id: clickId, event: "registration", sub1: "a b&c", network_ref: "n-42" });
    expect(JSON.stringify(raw)).not.toContain(operator.apiKey);
    expect(conversion.statusHistory).toEqual([expect.objectContaining({ fromStatus: null, toStatus: "APPROVED", source: "POSTBACK", apiKeyId: operator.apiKeyId })]);
  });

  it("accepts a GET carrying key, timestamp and signature as query parameters", async () => {
    const response = await getPostback(base, { customer_id: unique("player"), event: "ftd", amount: "50", currency: "EUR" }, { ...signed(), keyIn: "query", signatureInQuery: true });
    expect(response.status).toBe(200);
    expect(response.body.status).toBe("accepted");
  });

  it("accepts signed JSON and form POSTs, and a Bearer key", async () => {
    const json = await postJson(base, { click_id: unique("click"), event: "deposit", amount: "25.10", currency: "USD", event_id: unique("evt") }, signed());
    expect(json.status).toBe(200);
    expect(json.body.status).toBe("accepted");

    const form = new URLSearchParams({ customer_id: unique("player"), event: "trade", amount: "0.00000001", currency: "JPY" }).toString();
    const posted = await postPostback(base, form, "application/x-www-form-urlencoded", { ...signed(), keyIn: "bearer" });
    expect(posted.status).toBe(200);
    expect(posted.body.status).toBe("accepted");

    const { rows } = await hub.db.query<{ amount: string; currency: string }>("select amount::text, currency from conversion where id = $1", [posted.body.conversionId]);
    expect(rows[0]).toEqual({ amount: "0.00000001", currency: "JPY" });
  });

  it("writes conversion.recorded in the same transaction, with the agreed data shape", async () => {
    const eventId = unique("evt");
    const clickId = unique("click");
    const response = await postJson(base, { click_id: clickId, customer_id: "p-1", event: "ftd", event_id: eventId, amount: "100.50", currency: "EUR", occurred_at: "2026-01-02T03:04:05Z", sub2: "x" }, signed());
    const events = await eventsFor(response.body.conversionId!);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "conversion.recorded", operator_id: operator.operatorId, affiliate_id: null });
    expect(events[0]!.payload).toEqual({
      conversionId: response.body.conversionId,
      operatorId: operator.operatorId,
      affiliateId: null,
      clickId,
      customerId: "p-1",
      event: "ftd",
      eventId,
      status: "approved",
      amount: "100.5",
      currency: "EUR",
      occurredAt: "2026-01-02T03:04:05.000Z",
      attributed: false,
      sub1: null,
      sub2: "x",
      sub3: null,
      sub4: null,
      sub5: null,
    });
  });

  it("takes unsigned postbacks only from operators created with requireSignature: false", async () => {
    const lenient = await createOperator(hub, { requireSignature: false });
    const response = await getPostback(base, { click_id: unique("click"), event: "registration" }, { apiKey: lenient.apiKey });
    expect(response.status).toBe(200);
    await refused(() => getPostback(base, { click_id: unique("click"), event: "registration" }, { apiKey: operator.apiKey }), 401, "MISSING_SIGNATURE");
  });
});

describe("idempotency and status changes", () => {
  it("answers a repeat with the original conversion and changes nothing", async () => {
    const params = { click_id: unique("click"), event: "ftd", event_id: unique("evt"), amount: "10.00", currency: "EUR" };
    const first = await postJson(base, params, signed());
    const before = await writtenRows(hub);
    const again = await postJson(base, { ...params, amount: "10" }, signed());
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: "duplicate", conversionId: first.body.conversionId });
    expect(await writtenRows(hub)).toEqual(before);
  });

  it("identifies by (click_id or customer_id, event) without an event_id", async () => {
    const clickId = unique("click");
    const registration = await getPostback(base, { click_id: clickId, event: "registration" }, signed());
    const repeat = await getPostback(base, { click_id: clickId, event: "registration", sub3: "ignored" }, signed());
    const otherEvent = await getPostback(base, { click_id: clickId, event: "ftd" }, signed());
    expect(repeat.body).toMatchObject({ status: "duplicate", conversionId: registration.body.conversionId });
    expect(otherEvent.body.status).toBe("accepted");
    // A customer id that happens to equal a click id is a different identity.
    const byCustomer = await getPostback(base, { customer_id: clickId, event: "registration" }, signed());
    expect(byCustomer.body.status).toBe("accepted");
  });

  it("records allowed status changes with their time and an event; refuses the rest with 409", async () => {
    const params = { customer_id: unique("player"), event: "qualified", event_id: unique("evt"), amount: "30", currency: "GBP" };
    const pending = await postJson(base, { ...params, status: "pending" }, signed());
    expect(pending.body).toMatchObject({ status: "accepted", conversionStatus: "pending" });

    const approved = await postJson(base, { event_id: params.event_id, customer_id: params.customer_id, event: "qualified", status: "approved" }, signed());
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: "status_changed", conversionId: pending.body.conversionId, conversionStatus: "approved", previousStatus: "pending" });

    await refused(() => postJson(base, { ...params, status: "pending" }, signed()), 409, "INVALID_TRANSITION");
    await refused(() => postJson(base, { ...params, amount: "31", status: "approved" }, signed()), 409, "CONFLICTING_DUPLICATE");
    await refused(() => postJson(base, { ...params, currency: "EUR" }, signed()), 409, "CONFLICTING_DUPLICATE");

    const reversed = await postJson(base, { ...params, status: "reversed" }, signed());
    expect(reversed.body).toMatchObject({ status: "status_changed", previousStatus: "approved", conversionStatus: "reversed" });
    await refused(() => postJson(base, { ...params, status: "approved" }, signed()), 409, "INVALID_TRANSITION");

    const { conversion } = await graphqlOk(hub.graphqlUrl, ConversionDocument, { apiKey: hub.adminKey, variables: { id: pending.body.conversionId! } });
    expect(conversion.status).toBe("REVERSED");
    expect(conversion.statusChangedAt).toEqual(expect.any(String));
    expect(conversion.statusHistory.map((change) => [change.fromStatus, change.toStatus])).toEqual([
      [null, "PENDING"],
      ["PENDING", "APPROVED"],
      ["APPROVED", "REVERSED"],
    ]);
    const events = await eventsFor(pending.body.conversionId!);
    expect(events.map((event) => [event.type, event.payload.status, event.payload.previousStatus])).toEqual([
      ["conversion.recorded", "pending", undefined],
      ["conversion.status_changed", "approved", "pending"],
      ["conversion.status_changed", "reversed", "approved"],
    ]);
    // (jsonb keeps no key order, so compare the sets)
    expect(Object.keys(events[1]!.payload).sort()).toEqual([
      "conversionId", "operatorId", "affiliateId", "clickId", "customerId", "event", "eventId", "status", "previousStatus",
      "amount", "currency", "occurredAt", "attributed", "sub1", "sub2", "sub3", "sub4", "sub5",
    ].sort());
  });

  it("refuses pending after rejected, and approved → approved is a duplicate", async () => {
    const params = { click_id: unique("click"), event: "deposit", event_id: unique("evt") };
    await getPostback(base, { ...params, status: "rejected" }, signed());
    await refused(() => getPostback(base, { ...params, status: "approved" }, signed()), 409, "INVALID_TRANSITION");
  });
});

describe("refusals store nothing but the request log", () => {
  it("401 for a missing or unknown key", async () => {
    await refused(() => getPostback(base, { click_id: "c", event: "ftd" }, { secret: operator.postbackSecret }), 401, "MISSING_API_KEY");
    await refused(() => getPostback(base, { click_id: "c", event: "ftd" }, { ...signed(), apiKey: "ahk_unknown" }), 401, "INVALID_API_KEY");
    await refused(() => postJson(base, { click_id: "c", event: "ftd" }, { ...signed(), apiKey: "ahk_unknown", keyIn: "query" }), 401, "INVALID_API_KEY");
  });

  it("401 for missing, wrong, tampered and stale signatures", async () => {
    const params = { click_id: unique("click"), event: "ftd" };
    await refused(() => getPostback(base, params, { apiKey: operator.apiKey }), 401, "MISSING_SIGNATURE");
    await refused(() => postJson(base, params, { apiKey: operator.apiKey }), 401, "MISSING_SIGNATURE");
    await refused(() => getPostback(base, params, { ...signed(), secret: "pbs_not-the-secret" }), 401, "INVALID_SIGNATURE");
    await refused(() => postJson(base, params, { ...signed(), secret: "pbs_not-the-secret" }), 401, "INVALID_SIGNATURE");
    const timestamp = nowSeconds();
    const signature = sign(operator.postbackSecret, timestamp, `click_id=${params.click_id}&event=ftd`);
    await refused(() => getPostback(base, { ...params, event: "deposit" }, { apiKey: operator.apiKey, timestamp, signature }), 401, "INVALID_SIGNATURE");
    await refused(() => getPostback(base, params, { ...signed(), signature: "v1=deadbeef" }), 401, "INVALID_SIGNATURE");
    await refused(() => getPostback(base, params, { ...signed(), timestamp: nowSeconds() - 3_600 }), 401, "SIGNATURE_EXPIRED");
    await refused(() => postJson(base, params, { ...signed(), timestamp: nowSeconds() + 3_600 }), 401, "SIGNATURE_EXPIRED");
    // The signature covers the exact body: re-serialised JSON with the same meaning does not match.
    const body = JSON.stringify(params);
    const bodySignature = sign(operator.postbackSecret, timestamp, body);
    await refused(() => postPostback(base, JSON.stringify(params, null, 1), "application/json", { apiKey: operator.apiKey, timestamp, signature: bodySignature }), 401, "INVALID_SIGNATURE");
  });

  it("403 for keys that are not an operator's, and from addresses off the allowlist", async () => {
    const affiliate = await createAffiliate(hub);
    await refused(() => getPostback(base, { click_id: "c", event: "ftd" }, { ...signed(), apiKey: affiliate.apiKey }), 403, "FORBIDDEN");
    await refused(() => getPostback(base, { click_id: "c", event: "ftd" }, { ...signed(), apiKey: hub.adminKey }), 403, "FORBIDDEN");
    const fenced = await createKey(hub, { role: "OPERATOR", operatorId: operator.operatorId, allowedIps: ["203.0.113.0/24", "2001:db8::/32"] });
    const response = await refused(() => getPostback(base, { click_id: "c", event: "ftd" }, { ...signed(), apiKey: fenced.secret }), 403, "IP_NOT_ALLOWED");
    expect(response.body.error?.message).toContain("127.0.0.1");
    const open = await createKey(hub, { role: "OPERATOR", operatorId: operator.operatorId, allowedIps: ["127.0.0.0/8"] });
    expect((await getPostback(base, { click_id: unique("click"), event: "ftd" }, { ...signed(), apiKey: open.secret })).status).toBe(200);
  });

  it("400 with the field for each kind of bad input", async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ click_id: "c" }, "event"],
      [{ click_id: "c", event: "Big Win!" }, "event"],
      [{ event: "ftd" }, "click_id"],
      [{ click_id: "c", event: "ftd", amount: "ten", currency: "EUR" }, "amount"],
      [{ click_id: "c", event: "ftd", amount: "-5", currency: "EUR" }, "amount"],
      [{ click_id: "c", event: "ftd", amount: "1.000000001", currency: "EUR" }, "amount"],
      [{ click_id: "c", event: "ftd", amount: "5", currency: "EURO" }, "currency"],
      [{ click_id: "c", event: "ftd", amount: "5", currency: "ABC" }, "currency"],
      [{ click_id: "c", event: "ftd", amount: "5" }, "currency"],
      [{ click_id: "c", event: "ftd", occurred_at: "31/01/2026" }, "occurred_at"],
      [{ click_id: "c", event: "ftd", occurred_at: String(nowSeconds() + 7 * 86_400) }, "occurred_at"],
      [{ click_id: "c".repeat(256), event: "ftd" }, "click_id"],
      [{ customer_id: "p".repeat(256), event: "ftd" }, "customer_id"],
      [{ click_id: "c", event: "ftd", event_id: "e".repeat(256) }, "event_id"],
      [{ click_id: "c", event: "ftd", status: "paid" }, "status"],
    ];
    for (const [params, field] of cases) {
      await refused(() => getPostback(base, params, signed()), 400, "BAD_USER_INPUT", field);
      await refused(() => postJson(base, params, signed()), 400, "BAD_USER_INPUT", field);
    }
    await refused(() => postJson(base, { click_id: "c", event: "ftd", amount: 12.5, currency: "EUR" }, signed()), 400, "BAD_USER_INPUT", "amount");
    await refused(() => postPostback(base, '{"click_id": "c", "event": ', "application/json", signed()), 400, "MALFORMED_BODY");
    await refused(() => postPostback(base, "[1,2]", "application/json", signed()), 400, "MALFORMED_BODY");
    await refused(() => postPostback(base, "", "application/json", signed()), 400, "MALFORMED_BODY");
  });

  it("413 for bodies over 64 KiB, 415 for other content types", async () => {
    const big = JSON.stringify({ click_id: "c", event: "ftd", padding: "x".repeat(70 * 1024) });
    await refused(() => postPostback(base, big, "application/json", signed()), 413, "PAYLOAD_TOO_LARGE");
    await refused(() => postPostback(base, '{"click_id":"c","event":"ftd"}', "text/plain", signed()), 415, "UNSUPPORTED_MEDIA_TYPE");
    await refused(() => postPostback(base, "<postback/>", "application/xml", signed()), 415, "UNSUPPORTED_MEDIA_TYPE");
    await refused(() => postPostback(base, '{"click_id":"c","event":"ftd"}', undefined, signed()), 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("429 with Retry-After past the key's rate limit", async () => {
    const limited = await createOperator(hub, { rateLimitPerMinute: 3 });
    for (let i = 0; i < 3; i++) {
      const ok = await getPostback(base, { click_id: unique("click"), event: "registration" }, { apiKey: limited.apiKey, secret: limited.postbackSecret });
      expect(ok.status).toBe(200);
    }
    const response = await refused(
      () => getPostback(base, { click_id: unique("click"), event: "registration" }, { apiKey: limited.apiKey, secret: limited.postbackSecret }),
      429,
      "RATE_LIMITED",
    );
    const retryAfter = Number(response.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Other keys keep their own budgets.
    expect((await getPostback(base, { click_id: unique("click"), event: "registration" }, signed())).status).toBe(200);
  });

  it("logs a client that hangs up before its answer as 499, and stores nothing", async () => {
    const before = await writtenRows(hub);
    const { port } = new URL(base);
    const requestId = `hangup-${Date.now()}`;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(Number(port), "127.0.0.1", () => {
        // Headers with a valid key and Expect: 100-continue; Node answers "100 Continue" in the
        // same tick it hands the request to Fastify, so once it arrives the call is under way.
        socket.write(
          `POST /postback HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: ${operator.apiKey}\r\nx-request-id: ${requestId}\r\n` +
            "content-type: application/json\r\ncontent-length: 100\r\nexpect: 100-continue\r\n\r\n",
        );
      });
      socket.on("data", (chunk: Buffer) => {
        // Half the promised body, then gone.
        if (chunk.toString("latin1").includes("100 Continue")) socket.end('{"click_id":', () => socket.destroy());
      });
      socket.on("close", () => resolve());
      socket.on("error", reject);
    });
    const entry = await waitFor(
      async () => (await hub.db.query<{ status: number; error_code: string; api_key_id: string }>("select status, error_code, api_key_id from request_log where request_id = $1", [requestId])).rows[0],
      { what: "the hang-up in the request log" },
    );
    expect(entry).toEqual({ status: 499, error_code: "CLIENT_CLOSED_REQUEST", api_key_id: operator.apiKeyId });
    expect(await writtenRows(hub)).toEqual(before);
  });

  it("logs each refusal with its code", async () => {
    const codes = ["MISSING_API_KEY", "INVALID_API_KEY", "MISSING_SIGNATURE", "INVALID_SIGNATURE", "SIGNATURE_EXPIRED", "FORBIDDEN", "IP_NOT_ALLOWED", "BAD_USER_INPUT", "MALFORMED_BODY", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "RATE_LIMITED", "INVALID_TRANSITION", "CONFLICTING_DUPLICATE"];
    const logged = await waitFor(
      async () => {
        const { rows } = await hub.db.query<{ error_code: string; status: number }>("select distinct error_code, status from request_log where route = '/postback' and error_code is not null");
        const found = new Set(rows.map((row) => row.error_code));
        return codes.every((code) => found.has(code)) ? rows : undefined;
      },
      { what: "every refusal in the request log", timeoutMs: 20_000 },
    );
    expect(logged.find((row) => row.error_code === "PAYLOAD_TOO_LARGE")?.status).toBe(413);
  });
});

describe("postback secret rotation", () => {
  it("accepts old and new secrets during the grace period, then only the new one", async () => {
    const rotating = await createOperator(hub);
    const oldSecret = rotating.postbackSecret;
    const { rotatePostbackSecret } = await graphqlOk(hub.graphqlUrl, RotatePostbackSecretDocument, {
      apiKey: hub.adminKey,
      variables: { operatorId: rotating.operatorId, gracePeriodHours: 24 },
    });
    const newSecret = rotatePostbackSecret.postbackSecret;
    expect(newSecret).not.toBe(oldSecret);
    const graceEnds = Date.parse(rotatePostbackSecret.operator.previousPostbackSecretExpiresAt!);
    expect(graceEnds - Date.now()).toBeGreaterThan(23 * 3_600_000);

    const send = (secret: string) => getPostback(base, { click_id: unique("click"), event: "registration" }, { apiKey: rotating.apiKey, secret });
    expect((await send(oldSecret)).status).toBe(200);
    expect((await send(newSecret)).status).toBe(200);

    // The grace period ends (moved into the past rather than waited for).
    await hub.db.query("update operator set previous_postback_secret_expires_at = now() - interval '1 second' where id = $1", [rotating.operatorId]);
    await refused(() => send(oldSecret), 401, "INVALID_SIGNATURE");
    expect((await send(newSecret)).status).toBe(200);
  });

  it("with no grace period the old secret stops at once; the stored secrets are sealed", async () => {
    const rotating = await createOperator(hub);
    const { rotatePostbackSecret } = await graphqlOk(hub.graphqlUrl, RotatePostbackSecretDocument, {
      apiKey: hub.adminKey,
      variables: { operatorId: rotating.operatorId, gracePeriodHours: 0 },
    });
    await refused(() => getPostback(base, { click_id: unique("click"), event: "registration" }, { apiKey: rotating.apiKey, secret: rotating.postbackSecret }), 401, "INVALID_SIGNATURE");
    expect((await getPostback(base, { click_id: unique("click"), event: "registration" }, { apiKey: rotating.apiKey, secret: rotatePostbackSecret.postbackSecret })).status).toBe(200);
    const { rows } = await hub.db.query<{ secrets: string }>("select concat_ws(' ', postback_secret, previous_postback_secret) as secrets from operator where id = $1", [rotating.operatorId]);
    expect(rows[0]!.secrets).not.toContain(rotating.postbackSecret);
    expect(rows[0]!.secrets).not.toContain(rotatePostbackSecret.postbackSecret);
  });
});

describe("revocation", () => {
  it("stops a key at once", async () => {
    const key = await createKey(hub, { role: "OPERATOR", operatorId: operator.operatorId });
    const send = () => getPostback(base, { click_id: unique("click"), event: "registration" }, { apiKey: key.secret, secret: operator.postbackSecret });
    expect((await send()).status).toBe(200);
    await graphqlOk(hub.graphqlUrl, RevokeApiKeyDocument, { apiKey: hub.adminKey, variables: { id: key.id } });
    await refused(send, 401, "INVALID_API_KEY");
  });
});
