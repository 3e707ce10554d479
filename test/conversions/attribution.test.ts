import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConversionDocument, ConversionsDocument } from "../generated/graphql";
import { graphql, graphqlOk } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { createAffiliate, createCampaign, createOperator, getPostback, postJson, writtenRows, type OperatorFixture } from "../helpers/inbound";

let hub: TestHub;
let operator: OperatorFixture;
let affiliate: { affiliateId: string; apiKey: string };
let campaignId: string;

beforeAll(async () => {
  hub = await startTestHub({ env: { CLICK_RATE_LIMIT_PER_MINUTE: "1000" } });
  operator = await createOperator(hub);
  affiliate = await createAffiliate(hub);
  campaignId = await createCampaign(hub, operator.operatorId, "https://casino.example/welcome?cid={click_id}&src=hub");
});
afterAll(async () => {
  await hub?.stop();
});

async function click(query: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${hub.urls.http}/click/${campaignId}?${query}`, { redirect: "manual", headers });
}

function signed() {
  return { apiKey: operator.apiKey, secret: operator.postbackSecret };
}

describe("the click redirect", () => {
  it("records a click and answers 302 to the landing URL with a fresh click_id filled in", async () => {
    const first = await click(`affiliate_id=${affiliate.affiliateId}&sub1=banner&sub2=${encodeURIComponent("summer sale")}`, { "user-agent": "test-browser/1.0" });
    const second = await click(`affiliate_id=${affiliate.affiliateId}`);
    expect(first.status).toBe(302);
    expect(first.headers.get("cache-control")).toBe("no-store");
    const location = new URL(first.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe("https://casino.example/welcome");
    const clickId = location.searchParams.get("cid")!;
    expect(location.searchParams.get("src")).toBe("hub");
    expect(new URL(second.headers.get("location")!).searchParams.get("cid")).not.toBe(clickId);

    const { rows } = await hub.db.query("select operator_id, campaign_id, affiliate_id, sub1, sub2, sub3, ip, user_agent from click where click_id = $1", [clickId]);
    expect(rows).toEqual([
      { operator_id: operator.operatorId, campaign_id: campaignId, affiliate_id: affiliate.affiliateId, sub1: "banner", sub2: "summer sale", sub3: null, ip: "127.0.0.1", user_agent: "test-browser/1.0" },
    ]);
  });

  it("404s an unknown campaign or affiliate with the JSON error and stores no click", async () => {
    const before = await writtenRows(hub);
    const unknownAffiliate = await click("affiliate_id=00000000-0000-7000-8000-000000000000");
    expect(unknownAffiliate.status).toBe(404);
    expect(await unknownAffiliate.json()).toMatchObject({ error: { code: "NOT_FOUND", message: expect.stringContaining("Affiliate") } });
    const unknownCampaign = await fetch(`${hub.urls.http}/click/00000000-0000-7000-8000-000000000000?affiliate_id=${affiliate.affiliateId}`, { redirect: "manual" });
    expect(unknownCampaign.status).toBe(404);
    expect(await unknownCampaign.json()).toMatchObject({ error: { code: "NOT_FOUND", message: expect.stringContaining("Campaign") } });
    const notAnId = await fetch(`${hub.urls.http}/click/nope?affiliate_id=${affiliate.affiliateId}`, { redirect: "manual" });
    expect(notAnId.status).toBe(404);
    const garbledAffiliate = await click("affiliate_id=1%27%20or%201=1");
    expect(garbledAffiliate.status).toBe(404);
    const missingAffiliate = await click("sub1=x");
    expect(missingAffiliate.status).toBe(400);
    expect(await missingAffiliate.json()).toMatchObject({ error: { code: "BAD_USER_INPUT", field: "affiliate_id" } });
    const longSub = await click(`affiliate_id=${affiliate.affiliateId}&sub3=${"s".repeat(256)}`);
    expect(longSub.status).toBe(400);
    expect(await longSub.json()).toMatchObject({ error: { field: "sub3" } });
    const repeatedSub = await click(`affiliate_id=${affiliate.affiliateId}&sub1=a&sub1=b`);
    expect(repeatedSub.status).toBe(400);
    expect(await writtenRows(hub)).toEqual(before);
  });
});

describe("attribution", () => {
  it("click → registration (by click) → deposit (by customer only) reaches the click's affiliate", async () => {
    const redirect = await click(`affiliate_id=${affiliate.affiliateId}&sub1=aff-sub`);
    const clickId = new URL(redirect.headers.get("location")!).searchParams.get("cid")!;
    const customerId = `player-${Date.now()}`;

    const registration = await getPostback(hub.urls.http, { click_id: clickId, customer_id: customerId, event: "registration" }, signed());
    expect(registration.body).toMatchObject({ status: "accepted", attributed: true });

    const deposit = await postJson(hub.urls.http, { customer_id: customerId, event: "deposit", event_id: `dep-${Date.now()}`, amount: "250", currency: "EUR" }, signed());
    expect(deposit.body).toMatchObject({ status: "accepted", attributed: true });

    const { conversion } = await graphqlOk(hub.graphqlUrl, ConversionDocument, { apiKey: hub.adminKey, variables: { id: deposit.body.conversionId! } });
    expect(conversion).toMatchObject({ affiliateId: affiliate.affiliateId, attributed: true, attribution: "CUSTOMER", clickId: null, customerId, sub1: "aff-sub" });

    // The delivery engine's macros read the event: the deposit names the affiliate and the original click.
    const { rows } = await hub.db.query<{ payload: Record<string, unknown>; affiliate_id: string }>("select payload, affiliate_id from event where payload->>'conversionId' = $1", [deposit.body.conversionId]);
    expect(rows[0]).toMatchObject({ affiliate_id: affiliate.affiliateId, payload: { affiliateId: affiliate.affiliateId, attributed: true, clickId, customerId, sub1: "aff-sub" } });

    // The affiliate sees both through its own key.
    const mine = await graphqlOk(hub.graphqlUrl, ConversionsDocument, { apiKey: affiliate.apiKey, variables: {} });
    expect(mine.conversions.nodes.map((node) => node.id).sort()).toEqual([registration.body.conversionId, deposit.body.conversionId].sort());
  });

  it("a deposit for a customer with no attributed history is unattributed", async () => {
    const deposit = await postJson(hub.urls.http, { customer_id: `stranger-${Date.now()}`, event: "deposit", amount: "5", currency: "EUR" }, signed());
    expect(deposit.body).toMatchObject({ status: "accepted", attributed: false });
  });

  it("an unknown click_id is accepted unattributed and findable with attributed: false", async () => {
    const orphanClick = `unknown-${Date.now()}`;
    const response = await getPostback(hub.urls.http, { click_id: orphanClick, event: "ftd", amount: "20", currency: "USD" }, signed());
    expect(response.body).toMatchObject({ status: "accepted", attributed: false });

    const unattributed = await graphqlOk(hub.graphqlUrl, ConversionsDocument, {
      apiKey: operator.apiKey,
      variables: { filter: { attributed: false, event: "ftd" } },
    });
    expect(unattributed.conversions.nodes.map((node) => node.clickId)).toContain(orphanClick);
    expect(unattributed.conversions.nodes.every((node) => node.attributed === false)).toBe(true);
    const attributed = await graphqlOk(hub.graphqlUrl, ConversionsDocument, { apiKey: operator.apiKey, variables: { filter: { attributed: true } } });
    expect(attributed.conversions.nodes.map((node) => node.clickId)).not.toContain(orphanClick);
    // The affiliate does not see it.
    const affiliateView = await graphqlOk(hub.graphqlUrl, ConversionsDocument, { apiKey: affiliate.apiKey, variables: { filter: { attributed: false } } });
    expect(affiliateView.conversions.nodes).toEqual([]);
  });

  it("pages through conversions newest first with cursors", async () => {
    const page1 = await graphqlOk(hub.graphqlUrl, ConversionsDocument, { apiKey: hub.adminKey, variables: { first: 2 } });
    expect(page1.conversions.nodes).toHaveLength(2);
    expect(page1.conversions.pageInfo.hasNextPage).toBe(true);
    const page2 = await graphqlOk(hub.graphqlUrl, ConversionsDocument, { apiKey: hub.adminKey, variables: { first: 100, after: page1.conversions.pageInfo.endCursor } });
    const all = [...page1.conversions.nodes, ...page2.conversions.nodes];
    expect(new Set(all.map((node) => node.id)).size).toBe(all.length);
    const times = all.map((node) => Date.parse(node.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(page2.conversions.pageInfo.hasNextPage).toBe(false);
    const bad = await graphql(hub.graphqlUrl, ConversionsDocument, { apiKey: hub.adminKey, variables: { after: "garbage" } });
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("the click redirect's per-IP budget", () => {
  it("answers 429 with Retry-After past CLICK_RATE_LIMIT_PER_MINUTE", async () => {
    const limited = await startTestHub({ env: { CLICK_RATE_LIMIT_PER_MINUTE: "2" } });
    try {
      const url = `${limited.urls.http}/click/${campaignId}?affiliate_id=${affiliate.affiliateId}`;
      // (The campaign lives in the other hub's database: these are 404s, but they spend the budget all the same.)
      expect((await fetch(url, { redirect: "manual" })).status).toBe(404);
      expect((await fetch(url, { redirect: "manual" })).status).toBe(404);
      const third = await fetch(url, { redirect: "manual" });
      expect(third.status).toBe(429);
      expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await third.json()).toMatchObject({ error: { code: "RATE_LIMITED" } });
    } finally {
      await limited.stop();
    }
  });
});
