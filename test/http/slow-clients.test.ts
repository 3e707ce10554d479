import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subscribe, wsClient } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { createOperator, nowSeconds, postPostback, sign, type OperatorFixture } from "../helpers/inbound";
import { firstResponse, openRaw } from "../helpers/raw-client";
import { waitFor } from "../helpers/wait-for";

/**
 * Issue 10, hole 5: slow clients used to hold sockets forever (requestTimeout 0). These
 * tests are the probe's own moves on raw sockets against a real hub: a promised body that
 * never comes, headers dribbled in, silence, and the same against the defaults.
 */

/** How late after its deadline a cut may come: the server checks every ≤ 1 s, plus room for a loaded 2-core machine. */
const LATE_MS = 1_000 + 2_000;

function expectTimeoutAnswer(received: string): void {
  const response = firstResponse(received);
  expect(response?.status).toBe(408);
  expect(response?.body).toMatchObject({ error: { code: "REQUEST_TIMEOUT" } });
  expect(received).toMatch(/\r\nconnection: close\r\n/i);
}

function expectCutAt(closed: { afterMs: number }, timeoutMs: number): void {
  // The server's clock starts at the request's first byte, after the client's connect.
  expect(closed.afterMs).toBeGreaterThanOrEqual(timeoutMs - 20);
  expect(closed.afterMs).toBeLessThanOrEqual(timeoutMs + LATE_MS);
}

const promisedBodyHead = (path: string, headers: string, length: number) =>
  `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n${headers}\r\n`;

describe("with the default timeouts", () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it("cuts POST /graphql bodies that announce 60 000 bytes and send 10, with or without a key, at 10 s", async () => {
    const connections = await Promise.all(
      Array.from({ length: 20 }, async (_, n) => {
        const connection = await openRaw(hub.urls.http);
        const key = n % 2 === 0 ? `x-api-key: ${hub.adminKey}\r\n` : "";
        connection.write(promisedBodyHead("/graphql", key, 60_000) + '{"query":');
        return connection;
      }),
    );
    const results = await Promise.all(connections.map((connection) => connection.closed));
    for (const result of results) {
      expectCutAt(result, 10_000);
      expectTimeoutAnswer(result.received);
    }
  });
});

describe("with short timeouts", () => {
  const HEADERS_TIMEOUT_MS = 1_000;
  const BODY_TIMEOUT_MS = 2_000;
  const REQUEST_TIMEOUT_MS = 4_000;
  const KEEP_ALIVE_TIMEOUT_MS = 1_000;
  let hub: TestHub;
  let operator: OperatorFixture;

  beforeAll(async () => {
    hub = await startTestHub({
      env: {
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
      },
    });
    operator = await createOperator(hub);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it("cuts a trickled authenticated postback body with 408 and logs it as REQUEST_TIMEOUT", async () => {
    const requestId = `trickle-${Date.now()}`;
    const connection = await openRaw(hub.urls.http);
    connection.write(promisedBodyHead("/postback", `x-api-key: ${operator.apiKey}\r\nx-request-id: ${requestId}\r\n`, 400));
    connection.trickle("a", 100);
    const closed = await connection.closed;
    expectCutAt(closed, BODY_TIMEOUT_MS);
    expectTimeoutAnswer(closed.received);
    expect(closed.received).toContain(`\r\nx-request-id: ${requestId}\r\n`);
    const entry = await waitFor(
      async () => (await hub.db.query<{ status: number; error_code: string; api_key_id: string }>("select status, error_code, api_key_id from request_log where request_id = $1", [requestId])).rows[0],
      { what: "the timed-out postback in the request log" },
    );
    expect(entry).toEqual({ status: 408, error_code: "REQUEST_TIMEOUT", api_key_id: operator.apiKeyId });
  });

  it("closes a connection whose unread body still dribbles after an early refusal, at the whole-request timeout", async () => {
    const connection = await openRaw(hub.urls.http);
    connection.write(promisedBodyHead("/postback", "", 400)); // no key: refused before the body is read
    connection.trickle("a", 100);
    const closed = await connection.closed;
    expect(firstResponse(closed.received)).toMatchObject({ status: 401, body: { error: { code: "MISSING_API_KEY" } } });
    expectCutAt(closed, REQUEST_TIMEOUT_MS);
  });

  it("closes a client that dribbles its headers, and one that sends nothing, at the headers timeout", async () => {
    const dribbler = await openRaw(hub.urls.http);
    dribbler.write("POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\n");
    dribbler.trickle("x-padding: 1\r\n", 100);
    const silent = await openRaw(hub.urls.http);
    const [dribbled, quiet] = await Promise.all([dribbler.closed, silent.closed]);
    expectCutAt(dribbled, HEADERS_TIMEOUT_MS);
    expectTimeoutAnswer(dribbled.received);
    expectCutAt(quiet, HEADERS_TIMEOUT_MS);
  });

  it("closes an idle keep-alive connection after HTTP_KEEP_ALIVE_TIMEOUT_MS", async () => {
    const connection = await openRaw(hub.urls.http);
    connection.write("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    await waitFor(() => firstResponse(connection.received())?.status === 200, { what: "the health answer" });
    const answeredAt = Date.now();
    await connection.closed;
    const idleMs = Date.now() - answeredAt;
    expect(idleMs).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - 100);
    expect(idleMs).toBeLessThanOrEqual(KEEP_ALIVE_TIMEOUT_MS + LATE_MS);
  });

  it("accepts a large but allowed postback body at normal speed, and one spread over most of the deadline", async () => {
    const body = (eventId: string) => JSON.stringify({ click_id: `big-${eventId}`, event: "registration", event_id: eventId, note: "n".repeat(60_000) });
    const fast = await postPostback(hub.urls.http, body(`fast-${Date.now()}`), "application/json", { apiKey: operator.apiKey, secret: operator.postbackSecret });
    expect(fast.status).toBe(200);
    expect(fast.body.conversionId).toBeTruthy();

    // Slow but within the bound: five chunks over about 1 s of the 2 s body deadline.
    const payload = Buffer.from(body(`paced-${Date.now()}`));
    const timestamp = nowSeconds();
    const connection = await openRaw(hub.urls.http);
    connection.write(
      promisedBodyHead(
        "/postback",
        `x-api-key: ${operator.apiKey}\r\nx-hub-timestamp: ${timestamp}\r\nx-hub-signature: ${sign(operator.postbackSecret, timestamp, payload)}\r\nconnection: close\r\n`,
        payload.length,
      ),
    );
    const chunk = Math.ceil(payload.length / 5);
    for (let offset = 0; offset < payload.length; offset += chunk) {
      connection.write(payload.subarray(offset, offset + chunk));
      await delay(200); // the client's pace, not a synchronisation
    }
    const closed = await connection.closed;
    const response = firstResponse(closed.received);
    expect(response?.status).toBe(200);
    expect(response?.body).toMatchObject({ status: "accepted" });
  });

  it("does not limit how long the hub takes to answer: a postback held up past the request timeout still gets its 200", async () => {
    const blocker = new pg.Client({ connectionString: hub.db.url });
    await blocker.connect();
    try {
      await blocker.query("begin");
      await blocker.query("lock table conversion in exclusive mode");
      const answer = postPostback(hub.urls.http, JSON.stringify({ click_id: `held-${Date.now()}`, event: "registration" }), "application/json", {
        apiKey: operator.apiKey,
        secret: operator.postbackSecret,
      });
      await waitFor(
        async () => (await blocker.query<{ waiting: number }>("select count(*)::int as waiting from pg_locks where not granted and relation = 'conversion'::regclass")).rows[0]!.waiting > 0,
        { what: "the postback to wait on the lock" },
      );
      // Hold the answer back well past every deadline and one check interval.
      await delay(REQUEST_TIMEOUT_MS + 1_500);
      await blocker.query("commit");
      const response = await answer;
      expect(response.status).toBe(200);
      expect(response.body.status).toBe("accepted");
    } finally {
      await blocker.end();
    }
  });

  it("never cuts a graphql-ws connection: it outlives every HTTP timeout and keeps receiving", async () => {
    const client = wsClient(hub.websocketUrl, hub.adminKey);
    try {
      const ticks = subscribe<{ heartbeat: { now: string } }>(client, "subscription { heartbeat(intervalMs: 200) { now } }");
      await ticks.waitFor((events) => events.length >= 1);
      const outlived = Date.now() + REQUEST_TIMEOUT_MS + KEEP_ALIVE_TIMEOUT_MS + 1_500;
      await ticks.waitFor(() => Date.now() > outlived, 15_000);
      const seen = ticks.events.length;
      await ticks.waitFor((events) => events.length >= seen + 3);
      expect(ticks.error).toBeUndefined();
      expect(ticks.completed).toBe(false);
    } finally {
      await client.dispose();
    }
  });
});
