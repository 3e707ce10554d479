import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HubError } from "../../src/common/errors";
import { parseConversionParameters } from "../../src/conversions/conversion-input";
import { ConversionSource } from "../../src/conversions/conversion-status";
import { ConversionOutcome, recordConversions, type ConversionSubmission, type RecordedConversion } from "../../src/conversions/conversion.service";
import { startTestHub, type TestHub } from "../helpers/hub";
import { Campaign } from "../../src/tenants/campaign.entity";
import { Click } from "../../src/clicks/click.entity";
import { insertAffiliate, insertOperator } from "../helpers/tenants";

let hub: TestHub;
let operatorId: string;

beforeAll(async () => {
  hub = await startTestHub();
  operatorId = (await insertOperator(hub.hub.orm.em.fork())).id;
});
afterAll(async () => {
  await hub?.stop();
});

function submission(parameters: Record<string, string>, operator = operatorId): ConversionSubmission {
  return {
    operatorId: operator,
    input: parseConversionParameters(parameters, new Date()),
    source: ConversionSource.POSTBACK,
    apiKeyId: null,
    rawRequest: { parameters },
  };
}

function outcomes(results: Array<RecordedConversion | Error>): string[] {
  return results.map((result) => (result instanceof HubError ? result.code : result instanceof Error ? "error" : result.outcome));
}

describe("a batch of submissions in one transaction", () => {
  it("behaves as if they arrived one after another: repeats, status changes and 409s inside one batch", async () => {
    const eventId = `batch-${Date.now()}`;
    const base = { customer_id: "p-1", event: "deposit", event_id: eventId, amount: "10", currency: "EUR" };
    const results = await recordConversions(hub.hub.orm.em.fork(), hub.hub.metrics, [
      submission({ ...base, status: "pending" }),
      submission({ ...base, status: "pending" }),
      submission({ ...base, status: "approved" }),
      submission({ ...base, status: "pending" }),
      submission({ ...base, amount: "11", status: "approved" }),
      submission({ click_id: `other-${Date.now()}`, event: "registration" }),
    ]);
    expect(outcomes(results)).toEqual([
      ConversionOutcome.ACCEPTED,
      ConversionOutcome.DUPLICATE,
      ConversionOutcome.STATUS_CHANGED,
      "INVALID_TRANSITION",
      "CONFLICTING_DUPLICATE",
      ConversionOutcome.ACCEPTED,
    ]);
    const { rows } = await hub.db.query<{ type: string; status: string }>(
      "select type, payload->>'status' as status from event where payload->>'eventId' = $1 order by created_at, id",
      [eventId],
    );
    expect(rows).toEqual([
      { type: "conversion.recorded", status: "pending" },
      { type: "conversion.status_changed", status: "approved" },
    ]);
  });

  it("retries each item alone when the batch fails as a whole, so one bad item fails only itself", async () => {
    const stamp = Date.now();
    const results = await recordConversions(hub.hub.orm.em.fork(), hub.hub.metrics, [
      submission({ click_id: `ok-a-${stamp}`, event: "registration" }),
      // An operator that does not exist: its foreign key fails the shared INSERT.
      submission({ click_id: `bad-${stamp}`, event: "registration" }, "00000000-0000-7000-8000-000000000000"),
      submission({ click_id: `ok-b-${stamp}`, event: "registration" }),
    ]);
    expect(outcomes(results)).toEqual([ConversionOutcome.ACCEPTED, "NOT_FOUND", ConversionOutcome.ACCEPTED]);
    const { rows } = await hub.db.query<{ click_id: string }>("select click_id from conversion where click_id like $1 order by click_id", [`%-${stamp}`]);
    expect(rows.map((row) => row.click_id)).toEqual([`ok-a-${stamp}`, `ok-b-${stamp}`]);
  });

  it("attributes a customer's deposit through a registration earlier in the same batch", async () => {
    const em = hub.hub.orm.em.fork();
    const affiliate = await insertAffiliate(em);
    const campaign = em.create(Campaign, { operatorId, name: "batch attribution", landingUrl: "https://casino.example/?c={click_id}" });
    const clickId = `batch-click-${Date.now()}`;
    const customerId = `batch-player-${Date.now()}`;
    em.create(Click, { clickId, operatorId, campaignId: campaign.id, affiliateId: affiliate.id, sub1: "spring" });
    await em.flush();

    const results = await recordConversions(hub.hub.orm.em.fork(), hub.hub.metrics, [
      submission({ click_id: clickId, customer_id: customerId, event: "registration" }),
      submission({ customer_id: customerId, event: "ftd", amount: "50", currency: "EUR" }),
    ]);
    expect(outcomes(results)).toEqual([ConversionOutcome.ACCEPTED, ConversionOutcome.ACCEPTED]);
    expect(results.map((result) => (result as RecordedConversion).attributed)).toEqual([true, true]);
    const { rows } = await hub.db.query<{ event: string; affiliate_id: string; attribution: string; sub1: string }>(
      "select event, affiliate_id, attribution, sub1 from conversion where customer_id = $1 order by attribution",
      [customerId],
    );
    expect(rows).toEqual([
      { event: "registration", affiliate_id: affiliate.id, attribution: "click", sub1: "spring" },
      { event: "ftd", affiliate_id: affiliate.id, attribution: "customer", sub1: "spring" },
    ]);
  });
});
