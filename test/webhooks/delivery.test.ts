import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { deadKey, disabledKey } from "../../src/alerts/alert-rules";
import { AlertsDocument, EnableWebhookEndpointDocument, RotateWebhookSecretDocument, WebhookEndpointDocument } from "../generated/graphql";
import { graphqlOk } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { insertOperator } from "../helpers/tenants";
import { waitFor } from "../helpers/wait-for";
import { closedPort, WebhookReceiver } from "../helpers/webhook-receiver";
import { attemptsOf, conversionData, createEndpoint, deliveriesOf, eventType, publish, waitForDeliveryState } from "../helpers/webhooks";
import { publishEvent } from "../../src/outbox/publish";

/**
 * The delivery engine against real receivers on loopback. Each test owns an operator and
 * endpoints owned by it, and publishes that operator's events: ownership routing keeps
 * the tests apart. Schedule 1s,2s: three attempts per series.
 */
const TIMEOUT_MS = 1_000;
let hub: TestHub;
const receivers: WebhookReceiver[] = [];

async function receiver(...args: Parameters<typeof WebhookReceiver.start>): Promise<WebhookReceiver> {
  const started = await WebhookReceiver.start(...args);
  receivers.push(started);
  return started;
}

async function operatorWithEndpoint(target: WebhookReceiver, input: { eventTypes?: string[]; rateLimitPerSecond?: number } = {}) {
  const operator = await insertOperator(hub.hub.orm.em.fork());
  const created = await createEndpoint(hub, { url: target.url(), ownerOperatorId: operator.id, ...input });
  return { operatorId: operator.id, endpoint: created.endpoint, secret: created.secret };
}

beforeAll(async () => {
  hub = await startTestHub({
    env: {
      WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
      WEBHOOK_RETRY_SCHEDULE: "1s,2s",
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      QUEUE_SAMPLE_INTERVAL_MS: "200",
      WEBHOOK_SWEEP_INTERVAL_MS: "500",
    },
  });
});
afterAll(async () => {
  await hub?.stop();
  await Promise.all(receivers.map((r) => r.close()));
});

describe("webhook delivery", () => {
  it("POSTs the event as JSON with Standard Webhooks headers the standardwebhooks package verifies", async () => {
    const target = await receiver();
    const { operatorId, endpoint, secret } = await operatorWithEndpoint(target);
    const data = conversionData({ operatorId, amount: "1234.50", sub1: "ünïcode & more" });
    const event = await publish(hub.hub.orm.em, { type: "conversion.recorded", data, operatorId });

    const [request] = await target.waitForRequests(1);
    expect(request!.method).toBe("POST");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["webhook-id"]).toBe(event.id);
    expect(Number(request!.headers["webhook-timestamp"])).toBeGreaterThan(1_700_000_000);
    const verified = new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>);
    expect(verified).toEqual({ type: "conversion.recorded", timestamp: event.createdAt.toISOString(), data });

    const delivery = await waitForDeliveryState(hub, event.id, endpoint.id, ["succeeded"]);
    const [attempt] = await attemptsOf(hub, delivery.id);
    expect(attempt).toMatchObject({ attempt_number: 1, series: 0, succeeded: true, http_status: 200, response_body: "ok", error_class: null, replay: false });
    expect(attempt!.response_headers).toMatchObject({ "content-type": "text/plain" });
  });

  it("retries a receiver that fails twice on schedule, and the third attempt succeeds", async () => {
    const target = await receiver((request) => ({ status: request.index < 2 ? 500 : 200, body: request.index < 2 ? "not yet" : "ok" }));
    const { operatorId, endpoint } = await operatorWithEndpoint(target);
    const event = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId }), operatorId });

    const delivery = await waitForDeliveryState(hub, event.id, endpoint.id, ["succeeded"]);
    const attempts = await attemptsOf(hub, delivery.id);
    expect(attempts.map((a) => [a.attempt_number, a.succeeded, a.http_status, a.error_class])).toEqual([
      [1, false, 500, "http"],
      [2, false, 500, "http"],
      [3, true, 200, null],
    ]);
    expect(attempts[0]!.response_body).toBe("not yet");
    // The schedule as recorded: 1 s then 2 s after each failure ended, ±10% jitter.
    const waited = (i: number) => attempts[i]!.next_attempt_at!.getTime() - (attempts[i]!.started_at.getTime() + attempts[i]!.duration_ms);
    expect(waited(0)).toBeGreaterThanOrEqual(900 - 1);
    expect(waited(0)).toBeLessThanOrEqual(1_100 + 1);
    expect(waited(1)).toBeGreaterThanOrEqual(1_800 - 1);
    expect(waited(1)).toBeLessThanOrEqual(2_200 + 1);
    // And kept: no attempt started before its time.
    expect(attempts[1]!.started_at.getTime()).toBeGreaterThanOrEqual(attempts[0]!.next_attempt_at!.getTime());
    expect(attempts[2]!.started_at.getTime()).toBeGreaterThanOrEqual(attempts[1]!.next_attempt_at!.getTime());
    // The same webhook-id every time, so the receiver can deduplicate.
    expect(new Set(target.requests.map((r) => r.messageId))).toEqual(new Set([event.id]));
    expect(target.requests).toHaveLength(3);
  });

  it("logs a timeout, a refused connection and a 500 each with its class", async () => {
    const hanging = await receiver(() => ({ hang: true }));
    const failing = await receiver(() => ({ status: 500, body: "boom" }));
    const operator = await insertOperator(hub.hub.orm.em.fork());
    const refusedUrl = `http://127.0.0.1:${await closedPort()}/hook`;
    const endpoints = {
      timeout: (await createEndpoint(hub, { url: hanging.url(), ownerOperatorId: operator.id })).endpoint,
      connection: (await createEndpoint(hub, { url: refusedUrl, ownerOperatorId: operator.id })).endpoint,
      http: (await createEndpoint(hub, { url: failing.url(), ownerOperatorId: operator.id })).endpoint,
    };
    const event = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId: operator.id }), operatorId: operator.id });

    for (const [errorClass, endpoint] of Object.entries(endpoints)) {
      const delivery = await waitForDeliveryState(hub, event.id, endpoint.id, ["failed", "dead"]);
      const [first] = await attemptsOf(hub, delivery.id);
      expect(first, errorClass).toMatchObject({ attempt_number: 1, succeeded: false, error_class: errorClass });
    }
    const timeout = (await attemptsOf(hub, (await deliveriesOf(hub, event.id)).find((d) => d.endpoint_id === endpoints.timeout.id)!.id))[0]!;
    expect(timeout.error_message).toMatch(/no response within 1000 ms/);
    expect(timeout.duration_ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    const connection = (await attemptsOf(hub, (await deliveriesOf(hub, event.id)).find((d) => d.endpoint_id === endpoints.connection.id)!.id))[0]!;
    expect(connection.error_message).toMatch(/ECONNREFUSED/);
    const http = (await attemptsOf(hub, (await deliveriesOf(hub, event.id)).find((d) => d.endpoint_id === endpoints.http.id)!.id))[0]!;
    expect(http).toMatchObject({ http_status: 500, response_body: "boom", error_message: "HTTP 500" });
  });

  it("honours Retry-After on 429, clamped between the scheduled delay and twice it", async () => {
    const target = await receiver((request) =>
      request.index === 0 ? { status: 429, headers: { "retry-after": "3600" } } : request.index === 1 ? { status: 503, headers: { "retry-after": "0" } } : { status: 200 },
    );
    const { operatorId, endpoint } = await operatorWithEndpoint(target);
    const event = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId }), operatorId });

    const delivery = await waitForDeliveryState(hub, event.id, endpoint.id, ["succeeded"]);
    const attempts = await attemptsOf(hub, delivery.id);
    expect(attempts.map((a) => a.http_status)).toEqual([429, 503, 200]);
    const waited = (i: number) => attempts[i]!.next_attempt_at!.getTime() - (attempts[i]!.started_at.getTime() + attempts[i]!.duration_ms);
    // An hour asked for, clamped to twice the scheduled 1 s.
    expect(waited(0)).toBeGreaterThanOrEqual(2_000 - 1);
    expect(waited(0)).toBeLessThanOrEqual(2_000 + 1);
    // Zero asked for: never sooner than the schedule (2 s ±10%).
    expect(waited(1)).toBeGreaterThanOrEqual(1_800 - 1);
    expect(waited(1)).toBeLessThanOrEqual(2_200 + 1);
  });

  it("makes a delivery dead after the last attempt, raises an alert, and never sends that alert to the failing endpoint", async () => {
    const failing = await receiver(() => ({ status: 500 }));
    const sibling = await receiver();
    const observer = await receiver();
    const { operatorId, endpoint } = await operatorWithEndpoint(failing);
    await createEndpoint(hub, { url: sibling.url(), ownerOperatorId: operatorId, eventTypes: ["alert.raised"] });
    await createEndpoint(hub, { url: observer.url(), eventTypes: ["alert.raised"] });
    const event = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId }), operatorId });

    const delivery = await waitForDeliveryState(hub, event.id, endpoint.id, ["dead"]);
    expect(delivery.attempt_count).toBe(3);
    const attempts = await attemptsOf(hub, delivery.id);
    expect(attempts).toHaveLength(3);
    expect(attempts[2]!.next_attempt_at).toBeNull();

    const alert = await waitFor(async () => {
      const { alerts } = await graphqlOk(hub.graphqlUrl, AlertsDocument, { variables: { active: true }, apiKey: hub.adminKey });
      return alerts.nodes.find((a) => a.key === deadKey(endpoint.id));
    }, { what: "the dead-delivery alert" });
    expect(alert).toMatchObject({ kind: "DELIVERIES_DEAD", severity: "CRITICAL", endpointId: endpoint.id, operatorId, active: true });

    const isThisAlert = (body: string) => (JSON.parse(body) as { type: string; data: { key?: string } }).data.key === deadKey(endpoint.id);
    await waitFor(() => observer.requests.some((r) => isThisAlert(r.body)), { what: "alert.raised at the admin endpoint" });
    await waitFor(() => sibling.requests.some((r) => isThisAlert(r.body)), { what: "alert.raised at the operator's other endpoint" });
    const alertEvent = JSON.parse(observer.requests.find((r) => isThisAlert(r.body))!.body) as { type: string; data: Record<string, unknown> };
    expect(alertEvent.type).toBe("alert.raised");
    expect(alertEvent.data).toMatchObject({ kind: "DELIVERIES_DEAD", endpointId: endpoint.id, alertId: alert.id });
    // The alert event exists and was delivered elsewhere; the failing endpoint got no delivery of it.
    const { rows } = await hub.db.query(
      "select count(*)::int as n from delivery d join event e on e.id = d.event_id where e.type = 'alert.raised' and d.endpoint_id = $1",
      [endpoint.id],
    );
    expect(rows[0]!.n).toBe(0);
    expect(failing.requests.every((r) => !r.body.includes("alert.raised"))).toBe(true);
  });

  it("disables an endpoint that answers 410 Gone, and re-enabling resumes its pending deliveries", async () => {
    const target = await receiver(() => ({ status: 410 }));
    const { operatorId, endpoint } = await operatorWithEndpoint(target);
    const first = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId }), operatorId });

    await waitForDeliveryState(hub, first.id, endpoint.id, ["failed"]);
    const { webhookEndpoint } = await graphqlOk(hub.graphqlUrl, WebhookEndpointDocument, { variables: { id: endpoint.id }, apiKey: hub.adminKey });
    expect(webhookEndpoint).toMatchObject({ enabled: false, disabledReason: "GONE" });
    await waitFor(async () => {
      const { alerts } = await graphqlOk(hub.graphqlUrl, AlertsDocument, { variables: { active: true }, apiKey: hub.adminKey });
      return alerts.nodes.some((a) => a.key === disabledKey(endpoint.id) && a.kind === "ENDPOINT_DISABLED");
    }, { what: "the endpoint-disabled alert" });

    // Disabled: new events are not queued for it.
    const second = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId }), operatorId });
    expect(await deliveriesOf(hub, second.id)).toEqual([]);

    target.respond(() => ({ status: 204 }));
    await graphqlOk(hub.graphqlUrl, EnableWebhookEndpointDocument, { variables: { id: endpoint.id }, apiKey: hub.adminKey });
    const resumed = await waitForDeliveryState(hub, first.id, endpoint.id, ["succeeded"]);
    expect((await attemptsOf(hub, resumed.id)).map((a) => a.http_status)).toEqual([410, 204]);
    await waitFor(async () => {
      const { alerts } = await graphqlOk(hub.graphqlUrl, AlertsDocument, { variables: { active: false }, apiKey: hub.adminKey });
      return alerts.nodes.some((a) => a.key === disabledKey(endpoint.id) && a.resolvedAt);
    }, { what: "the endpoint-disabled alert to resolve" });
  });

  it("signs with both secrets during a rotation's grace period, and with the new one only after it", async () => {
    const target = await receiver();
    const { operatorId, endpoint, secret: oldSecret } = await operatorWithEndpoint(target);
    const { rotateWebhookSecret } = await graphqlOk(hub.graphqlUrl, RotateWebhookSecretDocument, {
      variables: { endpointId: endpoint.id, gracePeriodHours: 24 },
      apiKey: hub.adminKey,
    });
    const newSecret = rotateWebhookSecret.secret;
    expect(newSecret).not.toBe(oldSecret);
    expect(Date.parse(rotateWebhookSecret.endpoint.previousSecretExpiresAt!)).toBeGreaterThan(Date.now() + 23 * 3_600_000);

    const during = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId }), operatorId });
    const [request] = await target.waitForRequests(1);
    expect(request!.messageId).toBe(during.id);
    const signatures = String(request!.headers["webhook-signature"]).split(" ");
    expect(signatures).toHaveLength(2);
    const verifiesWith = (secret: string, signature: string) => {
      try {
        new Webhook(secret).verify(request!.body, { ...(request!.headers as Record<string, string>), "webhook-signature": signature });
        return true;
      } catch {
        return false;
      }
    };
    expect([verifiesWith(newSecret, signatures[0]!), verifiesWith(oldSecret, signatures[0]!)]).toEqual([true, false]);
    expect([verifiesWith(newSecret, signatures[1]!), verifiesWith(oldSecret, signatures[1]!)]).toEqual([false, true]);

    // The grace period ends (moved into the past rather than waiting a day).
    await hub.db.query("update webhook_endpoint set previous_secret_expires_at = now() - interval '1 second' where id = $1", [endpoint.id]);
    const after = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId }), operatorId });
    const [, later] = await target.waitForRequests(2);
    expect(later!.messageId).toBe(after.id);
    const only = String(later!.headers["webhook-signature"]).split(" ");
    expect(only).toHaveLength(1);
    expect(() => new Webhook(newSecret).verify(later!.body, later!.headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(later!.body, later!.headers as Record<string, string>)).toThrow();
  });

  it("sends nothing for a publish that rolls back, and delivers one that commits", async () => {
    const target = await receiver();
    const { operatorId, endpoint } = await operatorWithEndpoint(target);
    let rolledBackId: string | undefined;
    await expect(
      hub.hub.orm.em.fork().transactional(async (tx) => {
        rolledBackId = (await publishEvent(tx, { type: eventType("conversion.recorded"), data: conversionData({ operatorId }), operatorId })).id;
        throw new Error("the conversion failed to save");
      }),
    ).rejects.toThrow("the conversion failed to save");
    const committed = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId }), operatorId });

    await waitForDeliveryState(hub, committed.id, endpoint.id, ["succeeded"]);
    expect(target.requests.map((r) => r.messageId)).toEqual([committed.id]);
    const { rows } = await hub.db.query("select (select count(*) from event where id = $1)::int as events, (select count(*) from delivery where event_id = $1)::int as deliveries", [rolledBackId]);
    expect(rows[0]).toEqual({ events: 0, deliveries: 0 });
  });

  it("respects an endpoint's rate limit by delaying deliveries, not failing them", async () => {
    const target = await receiver();
    const rate = 5;
    const count = 8;
    const { operatorId, endpoint } = await operatorWithEndpoint(target, { rateLimitPerSecond: rate });
    const publishedAt = Date.now();
    const events = await hub.hub.orm.em.fork().transactional(async (tx) => {
      const published = [];
      for (let i = 0; i < count; i++) published.push(await publishEvent(tx, { type: eventType("conversion.recorded"), data: conversionData({ operatorId }), operatorId }));
      return published;
    });
    for (const event of events) await waitForDeliveryState(hub, event.id, endpoint.id, ["succeeded"]);
    const { rows } = await hub.db.query<{ started_at: Date; attempt_number: number; succeeded: boolean }>(
      "select started_at, attempt_number, succeeded from delivery_attempt where endpoint_id = $1 order by started_at",
      [endpoint.id],
    );
    expect(rows).toHaveLength(count);
    expect(rows.every((row) => row.attempt_number === 1 && row.succeeded)).toBe(true);
    // Slots are 1/rate apart, so the last send cannot come before (count-1)/rate seconds.
    expect(rows[count - 1]!.started_at.getTime() - publishedAt).toBeGreaterThanOrEqual(((count - 1) / rate) * 1_000 - 50);
  });
});
