import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHub, type TestHub } from "../helpers/hub";
import { createOperator, getPostback, postJson, type OperatorFixture } from "../helpers/inbound";

let hub: TestHub;
let operator: OperatorFixture;

beforeAll(async () => {
  hub = await startTestHub();
  operator = await createOperator(hub, { rateLimitPerMinute: 100_000 });
});
afterAll(async () => {
  await hub?.stop();
});

const CONCURRENT = 50;

describe("concurrent repeats", () => {
  it("50 concurrent identical postbacks make one conversion, one history row and one event", async () => {
    const params = { click_id: `race-${Date.now()}`, event: "ftd", event_id: `evt-${Date.now()}`, amount: "42.00", currency: "EUR" };
    const responses = await Promise.all(
      Array.from({ length: CONCURRENT }, () => postJson(hub.urls.http, params, { apiKey: operator.apiKey, secret: operator.postbackSecret })),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(CONCURRENT).fill(200));
    const outcomes = responses.map((response) => response.body.status);
    expect(outcomes.filter((outcome) => outcome === "accepted")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === "duplicate")).toHaveLength(CONCURRENT - 1);
    expect(new Set(responses.map((response) => response.body.conversionId)).size).toBe(1);

    const { rows } = await hub.db.query<{ conversions: number; changes: number; events: number }>(
      `select (select count(*)::int from conversion where event_id = $1) as conversions,
              (select count(*)::int from conversion_status_change s join conversion c on c.id = s.conversion_id where c.event_id = $1) as changes,
              (select count(*)::int from event where payload->>'eventId' = $1) as events`,
      [params.event_id],
    );
    expect(rows[0]).toEqual({ conversions: 1, changes: 1, events: 1 });
  });

  it("the same without an event_id (identity by click and event), over GET", async () => {
    const params = { click_id: `race-get-${Date.now()}`, event: "registration" };
    const responses = await Promise.all(
      Array.from({ length: CONCURRENT }, () => getPostback(hub.urls.http, params, { apiKey: operator.apiKey, secret: operator.postbackSecret })),
    );
    expect(responses.filter((response) => response.body.status === "accepted")).toHaveLength(1);
    expect(responses.filter((response) => response.body.status === "duplicate")).toHaveLength(CONCURRENT - 1);
    const { rows } = await hub.db.query<{ n: number }>("select count(*)::int as n from conversion where click_id = $1", [params.click_id]);
    expect(rows[0]!.n).toBe(1);
  });

  it("concurrent competing status changes: exactly one wins, the others see its result", async () => {
    const params = { customer_id: `player-${Date.now()}`, event: "deposit", event_id: `evt-status-${Date.now()}`, amount: "10", currency: "EUR" };
    const created = await postJson(hub.urls.http, { ...params, status: "pending" }, { apiKey: operator.apiKey, secret: operator.postbackSecret });
    expect(created.body.status).toBe("accepted");
    const targets = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? "approved" : "rejected"));
    const responses = await Promise.all(
      targets.map((status) => postJson(hub.urls.http, { ...params, status }, { apiKey: operator.apiKey, secret: operator.postbackSecret })),
    );
    const changed = responses.filter((response) => response.body.status === "status_changed");
    expect(changed).toHaveLength(1);
    const winner = changed[0]!.body.conversionStatus;
    // Everyone else either repeated the winner's status (duplicate) or asked for a move the winner made impossible (409).
    for (const [index, response] of responses.entries()) {
      if (response === changed[0]) continue;
      if (targets[index] === winner) expect(response.body.status).toBe("duplicate");
      else expect({ status: response.status, code: response.body.error?.code }).toEqual({ status: 409, code: "INVALID_TRANSITION" });
    }
    const { rows } = await hub.db.query<{ status: string; changes: number; events: number }>(
      `select c.status,
              (select count(*)::int from conversion_status_change where conversion_id = c.id) as changes,
              (select count(*)::int from event where payload->>'conversionId' = c.id::text) as events
         from conversion c where c.id = $1`,
      [created.body.conversionId],
    );
    expect(rows[0]).toEqual({ status: winner, changes: 2, events: 2 });
  });
});
