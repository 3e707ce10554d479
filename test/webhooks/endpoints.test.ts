import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateWebhookEndpointDocument,
  DeleteWebhookEndpointDocument,
  DeliveriesDocument,
  DisableWebhookEndpointDocument,
  OutboundEventDocument,
  RotateWebhookSecretDocument,
  SendTestWebhookDocument,
  UpdateWebhookEndpointDocument,
  WebhookEndpointDocument,
  WebhookEndpointsDocument,
} from "../generated/graphql";
import { graphql, graphqlOk } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { insertAffiliate, insertApiKey, insertOperator } from "../helpers/tenants";
import { waitFor } from "../helpers/wait-for";
import { WebhookReceiver } from "../helpers/webhook-receiver";
import { conversionData, createEndpoint, publish, waitForDeliveryState } from "../helpers/webhooks";
import { ApiKeyRole } from "../../src/common/viewer";

let hub: TestHub;
const receivers: WebhookReceiver[] = [];
async function receiver(): Promise<WebhookReceiver> {
  const started = await WebhookReceiver.start();
  receivers.push(started);
  return started;
}

beforeAll(async () => {
  hub = await startTestHub({ env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_RETRY_SCHEDULE: "1s,2s" } });
});
afterAll(async () => {
  await hub?.stop();
  await Promise.all(receivers.map((r) => r.close()));
});

async function tenantKeys() {
  const em = hub.hub.orm.em.fork();
  const operator = await insertOperator(em);
  const otherOperator = await insertOperator(em);
  const affiliate = await insertAffiliate(em);
  return {
    operator,
    otherOperator,
    affiliate,
    operatorKey: (await insertApiKey(em, { role: ApiKeyRole.OPERATOR, operatorId: operator.id })).secret,
    otherOperatorKey: (await insertApiKey(em, { role: ApiKeyRole.OPERATOR, operatorId: otherOperator.id })).secret,
    affiliateKey: (await insertApiKey(em, { role: ApiKeyRole.AFFILIATE, affiliateId: affiliate.id })).secret,
  };
}

async function noPendingDeliveries(): Promise<void> {
  await waitFor(async () => (await hub.db.query("select count(*)::int as n from delivery where state not in ('succeeded', 'dead')")).rows[0]!.n === 0, {
    what: "every delivery to finish",
  });
}

describe("routing by ownership", () => {
  it("gives an operator's endpoint only that operator's events, an affiliate's only events about it, and an admin's all", async () => {
    const keys = await tenantKeys();
    const otherAffiliate = await insertAffiliate(hub.hub.orm.em.fork());
    const [mine, theirs, affiliates, admins] = await Promise.all([receiver(), receiver(), receiver(), receiver()]);
    // Operators and affiliates create endpoints with their own keys: they own them.
    await createEndpoint(hub, { url: mine.url() }, keys.operatorKey);
    await createEndpoint(hub, { url: theirs.url() }, keys.otherOperatorKey);
    await createEndpoint(hub, { url: affiliates.url() }, keys.affiliateKey);
    await createEndpoint(hub, { url: admins.url(), eventTypes: ["conversion.recorded"] });

    const em = hub.hub.orm.em;
    const ours = await publish(em, { type: "conversion.recorded", data: conversionData({ operatorId: keys.operator.id, affiliateId: keys.affiliate.id }), operatorId: keys.operator.id, affiliateId: keys.affiliate.id });
    const others = await publish(em, { type: "conversion.recorded", data: conversionData({ operatorId: keys.otherOperator.id, affiliateId: otherAffiliate.id }), operatorId: keys.otherOperator.id, affiliateId: otherAffiliate.id });
    const statusChange = await publish(em, { type: "conversion.status_changed", data: conversionData({ operatorId: keys.otherOperator.id, status: "rejected", previousStatus: "pending" }), operatorId: keys.otherOperator.id });
    await noPendingDeliveries();

    expect(mine.requests.map((r) => r.messageId)).toEqual([ours.id]);
    expect(theirs.requests.map((r) => r.messageId).sort()).toEqual([others.id, statusChange.id].sort());
    expect(affiliates.requests.map((r) => r.messageId)).toEqual([ours.id]);
    // The admin endpoint's filter takes conversion.recorded only.
    expect(admins.requests.map((r) => r.messageId).sort()).toEqual([ours.id, others.id].sort());
  });
});

describe("endpoint management", () => {
  it("returns a whsec_ secret once and stores it sealed", async () => {
    const target = await receiver();
    const { endpoint, secret } = await createEndpoint(hub, { url: target.url(), description: "CRM" });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice("whsec_".length), "base64").length).toBeGreaterThanOrEqual(24);
    expect(endpoint).toMatchObject({ description: "CRM", format: "STANDARD_WEBHOOK", eventTypes: [], enabled: true, ownerOperatorId: null });
    const { rows } = await hub.db.query("select row_to_json(e)::text as row from webhook_endpoint e where id = $1", [endpoint.id]);
    expect(rows[0]!.row).not.toContain(secret.slice("whsec_".length));
    const asked = await graphql(hub.graphqlUrl, `query { webhookEndpoint(id: "${endpoint.id}") { id secret } }`, { apiKey: hub.adminKey });
    expect(asked.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  it("lets owners see and manage only their own endpoints", async () => {
    const keys = await tenantKeys();
    const target = await receiver();
    const own = (await createEndpoint(hub, { url: target.url() }, keys.operatorKey)).endpoint;
    const foreign = (await createEndpoint(hub, { url: target.url() }, keys.otherOperatorKey)).endpoint;
    expect(own.ownerOperatorId).toBe(keys.operator.id);

    const listed = await graphqlOk(hub.graphqlUrl, WebhookEndpointsDocument, { apiKey: keys.operatorKey });
    expect(listed.webhookEndpoints.nodes.map((e) => e.id)).toEqual([own.id]);
    const all = await graphqlOk(hub.graphqlUrl, WebhookEndpointsDocument, { apiKey: hub.adminKey });
    expect(all.webhookEndpoints.nodes.map((e) => e.id)).toEqual(expect.arrayContaining([own.id, foreign.id]));

    const attempts = [
      graphql(hub.graphqlUrl, WebhookEndpointDocument, { variables: { id: foreign.id }, apiKey: keys.operatorKey }),
      graphql(hub.graphqlUrl, UpdateWebhookEndpointDocument, { variables: { id: foreign.id, input: { description: "mine now" } }, apiKey: keys.operatorKey }),
      graphql(hub.graphqlUrl, DisableWebhookEndpointDocument, { variables: { id: foreign.id }, apiKey: keys.operatorKey }),
      graphql(hub.graphqlUrl, RotateWebhookSecretDocument, { variables: { endpointId: foreign.id }, apiKey: keys.operatorKey }),
      graphql(hub.graphqlUrl, SendTestWebhookDocument, { variables: { endpointId: foreign.id }, apiKey: keys.operatorKey }),
      graphql(hub.graphqlUrl, DeleteWebhookEndpointDocument, { variables: { id: foreign.id }, apiKey: keys.affiliateKey }),
    ];
    for (const result of await Promise.all(attempts)) expect(result.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");

    const stolen = await graphql(hub.graphqlUrl, CreateWebhookEndpointDocument, {
      variables: { input: { url: target.url(), ownerOperatorId: keys.otherOperator.id } },
      apiKey: keys.operatorKey,
    });
    expect(stolen.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const affiliateOwned = await createEndpoint(hub, { url: target.url() }, keys.affiliateKey);
    expect(affiliateOwned.endpoint).toMatchObject({ ownerAffiliateId: keys.affiliate.id, ownerOperatorId: null });
  });

  it("refuses bad input with BAD_USER_INPUT naming the field", async () => {
    const target = await receiver();
    const operator = await insertOperator(hub.hub.orm.em.fork());
    const affiliate = await insertAffiliate(hub.hub.orm.em.fork());
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ url: target.url(), eventTypes: ["conversion.recorded", "payout.sent"] }, "eventTypes", /payout\.sent/],
      [{ url: target.url(), ownerOperatorId: operator.id, ownerAffiliateId: affiliate.id }, "ownerAffiliateId", /at most one owner/],
      [{ url: target.url(), ownerOperatorId: "01a21afb-0000-7000-8000-000000000000" }, "ownerOperatorId", /not an operator/],
      [{ url: target.url(), rateLimitPerSecond: 0 }, "rateLimitPerSecond", /1-10000/],
      [{ url: "ftp://example.com/hook" }, "url", /http or https/],
      [{ url: `${target.url()}?cid={click_id}&x={payout}`, format: "POSTBACK_URL" }, "url", /unknown macros \{payout\}/],
      [{ url: `${target.url()}?cid={click_id}`, format: "POSTBACK_URL", eventTypes: ["alert.raised"] }, "eventTypes", /conversion events only/],
    ];
    for (const [input, field, message] of cases) {
      const result = await graphql(hub.graphqlUrl, CreateWebhookEndpointDocument, { variables: { input: input as never }, apiKey: hub.adminKey });
      expect(result.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code: "BAD_USER_INPUT", field });
      expect(result.errors?.[0]?.message).toMatch(message);
    }
  });

  it("sets maxInFlight per endpoint: owners up to the hub default, admins beyond it, null back to the default", async () => {
    const target = await receiver();
    const keys = await tenantKeys();
    const own = await createEndpoint(hub, { url: target.url(), maxInFlight: 2 }, keys.operatorKey);
    expect(own.endpoint.maxInFlight).toBe(2);
    // The default (WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT) is 4 here; more would take slots from every other tenant.
    const raised = await graphql(hub.graphqlUrl, UpdateWebhookEndpointDocument, { variables: { id: own.endpoint.id, input: { maxInFlight: 5 } }, apiKey: keys.operatorKey });
    expect(raised.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN" });
    expect(raised.errors?.[0]?.message).toMatch(/above the hub default of 4 needs an admin key/);
    const refused = await graphql(hub.graphqlUrl, CreateWebhookEndpointDocument, { variables: { input: { url: target.url(), maxInFlight: 8 } }, apiKey: keys.affiliateKey });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN" });

    const { updateWebhookEndpoint: byAdmin } = await graphqlOk(hub.graphqlUrl, UpdateWebhookEndpointDocument, {
      variables: { id: own.endpoint.id, input: { maxInFlight: 20 } },
      apiKey: hub.adminKey,
    });
    expect(byAdmin.maxInFlight).toBe(20);
    // Other fields stay editable by the owner; maxInFlight is left alone when absent.
    const { updateWebhookEndpoint: renamed } = await graphqlOk(hub.graphqlUrl, UpdateWebhookEndpointDocument, {
      variables: { id: own.endpoint.id, input: { description: "renamed" } },
      apiKey: keys.operatorKey,
    });
    expect(renamed).toMatchObject({ description: "renamed", maxInFlight: 20 });
    const { updateWebhookEndpoint: reset } = await graphqlOk(hub.graphqlUrl, UpdateWebhookEndpointDocument, {
      variables: { id: own.endpoint.id, input: { maxInFlight: null } },
      apiKey: keys.operatorKey,
    });
    expect(reset.maxInFlight).toBeNull();

    for (const maxInFlight of [0, 101]) {
      const result = await graphql(hub.graphqlUrl, CreateWebhookEndpointDocument, { variables: { input: { url: target.url(), maxInFlight } }, apiKey: hub.adminKey });
      expect(result.errors?.[0]?.extensions, String(maxInFlight)).toMatchObject({ code: "BAD_USER_INPUT", field: "maxInFlight" });
      expect(result.errors?.[0]?.message).toMatch(/maxInFlight must be an integer 1-100/);
    }
    const { rows } = await hub.db.query("select count(*)::int as n from webhook_endpoint where url = $1", [target.url()]);
    expect(rows[0]!.n).toBe(1);
  });

  it("updates fields, clears them with null, and deletes an endpoint with its deliveries", async () => {
    const target = await receiver();
    const operator = await insertOperator(hub.hub.orm.em.fork());
    const { endpoint } = await createEndpoint(hub, { url: target.url(), description: "old", rateLimitPerSecond: 10, ownerOperatorId: operator.id });
    const { updateWebhookEndpoint } = await graphqlOk(hub.graphqlUrl, UpdateWebhookEndpointDocument, {
      variables: { id: endpoint.id, input: { description: null, rateLimitPerSecond: null, eventTypes: ["conversion.recorded"], url: target.url("/v2") } },
      apiKey: hub.adminKey,
    });
    expect(updateWebhookEndpoint).toMatchObject({ description: null, rateLimitPerSecond: null, eventTypes: ["conversion.recorded"], url: target.url("/v2") });

    const event = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId: operator.id }), operatorId: operator.id });
    await waitForDeliveryState(hub, event.id, endpoint.id, ["succeeded"]);
    expect(target.requests[0]!.path).toBe("/v2");
    await graphqlOk(hub.graphqlUrl, DeleteWebhookEndpointDocument, { variables: { id: endpoint.id }, apiKey: hub.adminKey });
    const { rows } = await hub.db.query(
      "select (select count(*) from webhook_endpoint where id = $1)::int as endpoints, (select count(*) from delivery where endpoint_id = $1)::int as deliveries, (select count(*) from delivery_attempt where endpoint_id = $1)::int as attempts",
      [endpoint.id],
    );
    expect(rows[0]).toEqual({ endpoints: 0, deliveries: 0, attempts: 0 });
  });

  it("sends a webhook.test event to that endpoint only, whatever its filter, and not to a disabled one", async () => {
    const [target, bystander] = [await receiver(), await receiver()];
    const operator = await insertOperator(hub.hub.orm.em.fork());
    const { endpoint } = await createEndpoint(hub, { url: target.url(), eventTypes: ["conversion.recorded"], ownerOperatorId: operator.id });
    await createEndpoint(hub, { url: bystander.url(), ownerOperatorId: operator.id });
    const { sendTestWebhook } = await graphqlOk(hub.graphqlUrl, SendTestWebhookDocument, { variables: { endpointId: endpoint.id }, apiKey: hub.adminKey });
    expect(sendTestWebhook).toMatchObject({ endpointId: endpoint.id, state: "PENDING" });

    const [request] = await target.waitForRequests(1);
    const body = JSON.parse(request!.body) as { type: string; data: Record<string, unknown> };
    expect(body.type).toBe("webhook.test");
    expect(body.data).toMatchObject({ endpointId: endpoint.id });
    await waitForDeliveryState(hub, sendTestWebhook.eventId, endpoint.id, ["succeeded"]);
    expect(bystander.requests).toEqual([]);

    await graphqlOk(hub.graphqlUrl, DisableWebhookEndpointDocument, { variables: { id: endpoint.id }, apiKey: hub.adminKey });
    const refused = await graphql(hub.graphqlUrl, SendTestWebhookDocument, { variables: { endpointId: endpoint.id }, apiKey: hub.adminKey });
    expect(refused.errors?.[0]?.extensions?.code).toBe("ENDPOINT_DISABLED");
  });
});

describe("delivery queries", () => {
  it("lists deliveries with their attempts, page by page, and shows an event with its deliveries to the owner only", async () => {
    const keys = await tenantKeys();
    const target = await receiver();
    const { endpoint } = await createEndpoint(hub, { url: target.url() }, keys.operatorKey);
    const events = [];
    for (let i = 0; i < 5; i++) {
      events.push(await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId: keys.operator.id }), operatorId: keys.operator.id }));
    }
    for (const event of events) await waitForDeliveryState(hub, event.id, endpoint.id, ["succeeded"]);

    const seen: string[] = [];
    let after: string | null | undefined;
    for (let page = 0; page < 3; page++) {
      const { deliveries } = await graphqlOk(hub.graphqlUrl, DeliveriesDocument, {
        variables: { filter: { endpointId: endpoint.id, state: "SUCCEEDED" }, first: 2, after },
        apiKey: keys.operatorKey,
      });
      seen.push(...deliveries.nodes.map((d) => d.eventId));
      expect(deliveries.nodes.every((d) => d.attempts.length === 1 && d.attempts[0]!.httpStatus === 200)).toBe(true);
      expect(deliveries.pageInfo.hasNextPage).toBe(page < 2);
      after = deliveries.pageInfo.endCursor;
    }
    expect(seen).toEqual(events.map((e) => e.id).reverse());

    const other = await graphqlOk(hub.graphqlUrl, DeliveriesDocument, { variables: { filter: { endpointId: endpoint.id } }, apiKey: keys.otherOperatorKey });
    expect(other.deliveries.nodes).toEqual([]);

    const { event } = await graphqlOk(hub.graphqlUrl, OutboundEventDocument, { variables: { id: events[0]!.id }, apiKey: keys.operatorKey });
    expect(event).toMatchObject({ id: events[0]!.id, type: "conversion.recorded", operatorId: keys.operator.id });
    expect(event.deliveries).toHaveLength(1);
    expect(event.deliveries[0]!.attempts[0]).toMatchObject({ attemptNumber: 1, succeeded: true, replay: false, errorClass: null });
    const hidden = await graphql(hub.graphqlUrl, OutboundEventDocument, { variables: { id: events[0]!.id }, apiKey: keys.otherOperatorKey });
    expect(hidden.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");

    const { webhookEndpoint } = await graphqlOk(hub.graphqlUrl, WebhookEndpointDocument, { variables: { id: endpoint.id }, apiKey: keys.operatorKey });
    expect(webhookEndpoint.stats).toMatchObject({ pending: 0, dead: 0, recentAttempts: 5, recentSucceeded: 5, recentFailed: 0 });
    expect(webhookEndpoint.stats.lastSuccessAt).not.toBeNull();
  });
});
