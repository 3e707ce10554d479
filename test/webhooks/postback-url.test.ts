import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POSTBACK_MACROS } from "../../src/webhooks/postback-template";
import { startTestHub, type TestHub } from "../helpers/hub";
import { insertAffiliate } from "../helpers/tenants";
import { WebhookReceiver } from "../helpers/webhook-receiver";
import { conversionData, createEndpoint, deliveriesOf, publish, waitForDeliveryState } from "../helpers/webhooks";

let hub: TestHub;
let tracker: WebhookReceiver;

beforeAll(async () => {
  hub = await startTestHub({ env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" } });
  tracker = await WebhookReceiver.start();
});
afterAll(async () => {
  await hub?.stop();
  await tracker?.close();
});

describe("affiliate postback URLs", () => {
  it("GETs the template with every macro filled in, URL-encoded, and nothing but conversion events", async () => {
    const affiliate = await insertAffiliate(hub.hub.orm.em.fork());
    // Every macro, each in its own query parameter named after it.
    const query = Object.keys(POSTBACK_MACROS).map((macro) => `${macro}={${macro}}`).join("&");
    const { endpoint } = await createEndpoint(hub, { url: `${tracker.url("/pb")}?${query}`, format: "POSTBACK_URL", ownerAffiliateId: affiliate.id });
    expect(endpoint.format).toBe("POSTBACK_URL");

    const data = conversionData({
      affiliateId: affiliate.id,
      clickId: "abc&def=1 2",
      customerId: "Zoë Ünïcode €",
      event: "ftd",
      eventId: "tx/42?#",
      status: "approved",
      amount: "1234.50",
      currency: "EUR",
      occurredAt: "2026-01-02T03:04:05.000Z",
      sub1: "a b&c",
      sub2: "日本語",
      sub3: "100%",
      sub4: "+plus+",
      sub5: null,
    });
    const recorded = await publish(hub.hub.orm.em, { type: "conversion.recorded", data, affiliateId: affiliate.id });
    // Not a conversion: a postback endpoint never gets it, even though it is about this affiliate.
    const other = await publish(hub.hub.orm.em, { type: "alert.raised", data: { note: "not for trackers" }, affiliateId: affiliate.id });
    await waitForDeliveryState(hub, recorded.id, endpoint.id, ["succeeded"]);

    const [request] = tracker.requests;
    expect(tracker.requests).toHaveLength(1);
    expect(request!.method).toBe("GET");
    expect(request!.path).toBe("/pb");
    expect(request!.body).toBe("");
    expect(request!.headers["webhook-id"]).toBe(recorded.id);
    const got = Object.fromEntries(request!.query.entries());
    expect(got).toEqual({
      click_id: "abc&def=1 2",
      sub1: "a b&c",
      sub2: "日本語",
      sub3: "100%",
      sub4: "+plus+",
      sub5: "",
      customer_id: "Zoë Ünïcode €",
      event: "ftd",
      event_id: "tx/42?#",
      conversion_id: data.conversionId,
      status: "approved",
      amount: "1234.50",
      currency: "EUR",
      occurred_at: "2026-01-02T03:04:05.000Z",
      timestamp: request!.headers["webhook-timestamp"],
    });
    // Encoded, not merely tolerated: the raw query has no bare space, & inside values, or non-ASCII.
    expect(request!.url).toContain("click_id=abc%26def%3D1%202");
    expect(request!.url).not.toMatch(/[^\x21-\x7e]/);
    expect(await deliveriesOf(hub, other.id)).toEqual([]);
  });

  it("also delivers status changes, with the new status", async () => {
    const affiliate = await insertAffiliate(hub.hub.orm.em.fork());
    const before = tracker.requests.length;
    const { endpoint } = await createEndpoint(hub, {
      url: `${tracker.url("/status")}?cid={click_id}&st={status}&amt={amount}`,
      format: "POSTBACK_URL",
      ownerAffiliateId: affiliate.id,
      eventTypes: ["conversion.status_changed"],
    });
    const recorded = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ affiliateId: affiliate.id }), affiliateId: affiliate.id });
    const changed = await publish(hub.hub.orm.em, {
      type: "conversion.status_changed",
      data: conversionData({ affiliateId: affiliate.id, clickId: "c-9", status: "reversed", previousStatus: "approved", amount: null }),
      affiliateId: affiliate.id,
    });
    await waitForDeliveryState(hub, changed.id, endpoint.id, ["succeeded"]);
    expect(await deliveriesOf(hub, recorded.id)).toEqual([]);
    const request = tracker.requests.slice(before).find((r) => r.path === "/status")!;
    expect(Object.fromEntries(request.query.entries())).toEqual({ cid: "c-9", st: "reversed", amt: "" });
  });
});
