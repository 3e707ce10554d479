import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AffiliatesDocument,
  ApiKeysDocument,
  CampaignsDocument,
  ConversionDocument,
  ConversionsDocument,
  CreateApiKeyDocument,
  CreateCampaignDocument,
  OperatorsDocument,
  RecordConversionDocument,
  RequestLogDocument,
  type RecordConversionMutation,
} from "../generated/graphql";
import { graphql, graphqlOk } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { print } from "graphql";
import { createAffiliate, createCampaign, createKey, createOperator, getPostback, signedGraphql, type OperatorFixture } from "../helpers/inbound";

let hub: TestHub;
let alpha: OperatorFixture;
let beta: OperatorFixture;
let partnerA: { affiliateId: string; apiKey: string };
let partnerB: { affiliateId: string; apiKey: string };
let betaConversionId: string;
let betaCampaignId: string;

async function codeOf(document: Parameters<typeof graphql>[1], apiKey: string | undefined, variables: Record<string, unknown> = {}): Promise<string | undefined> {
  const result = await graphql(hub.graphqlUrl, document, { apiKey, variables: variables as never });
  return result.errors?.[0]?.extensions?.code;
}

/** recordConversion with alpha's operator key, signed as its operator requires. */
function recordAsAlpha(input: Record<string, unknown>) {
  return signedGraphql<RecordConversionMutation>(hub.graphqlUrl, print(RecordConversionDocument), { apiKey: alpha.apiKey, secret: alpha.postbackSecret, variables: { input } });
}

beforeAll(async () => {
  hub = await startTestHub({ env: { CLICK_RATE_LIMIT_PER_MINUTE: "1000" } });
  alpha = await createOperator(hub);
  beta = await createOperator(hub);
  partnerA = await createAffiliate(hub);
  partnerB = await createAffiliate(hub);
  await createCampaign(hub, alpha.operatorId);
  betaCampaignId = await createCampaign(hub, beta.operatorId);
  // Beta has a conversion attributed to partner B.
  const redirect = await fetch(`${hub.urls.http}/click/${betaCampaignId}?affiliate_id=${partnerB.affiliateId}`, { redirect: "manual" });
  const clickId = new URL(redirect.headers.get("location")!).searchParams.get("cid")!;
  const response = await getPostback(hub.urls.http, { click_id: clickId, event: "registration" }, { apiKey: beta.apiKey, secret: beta.postbackSecret });
  betaConversionId = response.body.conversionId!;
});
afterAll(async () => {
  await hub?.stop();
});

describe("admin mutations", () => {
  it("are refused to operator, affiliate and missing keys", async () => {
    const mutations: Array<[string, Record<string, unknown>]> = [
      ["mutation($i: CreateOperatorInput!) { createOperator(input: $i) { postbackSecret } }", { i: { name: "x" } }],
      ["mutation($id: ID!) { rotatePostbackSecret(operatorId: $id) { postbackSecret } }", { id: alpha.operatorId }],
      ["mutation($i: CreateAffiliateInput!) { createAffiliate(input: $i) { id } }", { i: { name: "x" } }],
      ["mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }", { i: { name: "x", role: "ADMIN" } }],
      ["mutation($id: ID!) { revokeApiKey(id: $id) { id } }", { id: alpha.apiKeyId }],
    ];
    for (const [document, variables] of mutations) {
      expect(await codeOf(document, alpha.apiKey, variables), document).toBe("FORBIDDEN");
      expect(await codeOf(document, partnerA.apiKey, variables), document).toBe("FORBIDDEN");
      expect(await codeOf(document, undefined, variables), document).toBe("UNAUTHENTICATED");
    }
  });

  it("createApiKey stores only a hash, shows a prefix, and validates its scope, IPs and limit", async () => {
    const created = await graphqlOk(hub.graphqlUrl, CreateApiKeyDocument, {
      apiKey: hub.adminKey,
      variables: { input: { name: "ops", role: "OPERATOR", operatorId: alpha.operatorId, allowedIps: ["10.0.0.0/8", "2001:db8::1"], rateLimitPerMinute: 120 } },
    });
    const { apiKey, secret } = created.createApiKey;
    expect(apiKey).toMatchObject({ role: "OPERATOR", operatorId: alpha.operatorId, allowedIps: ["10.0.0.0/8", "2001:db8::1/128"], rateLimitPerMinute: 120, prefix: secret.slice(0, 12) });
    const { rows } = await hub.db.query<{ key_hash: string }>("select key_hash from api_key where id = $1", [apiKey.id]);
    expect(rows[0]!.key_hash).toBe(createHash("sha256").update(secret).digest("hex"));
    const dump = await hub.db.query("select * from api_key");
    expect(JSON.stringify(dump.rows)).not.toContain(secret);

    const invalid: Array<[Record<string, unknown>, string]> = [
      [{ name: "k", role: "OPERATOR" }, "operatorId"],
      [{ name: "k", role: "ADMIN", operatorId: alpha.operatorId }, "operatorId"],
      [{ name: "k", role: "AFFILIATE" }, "affiliateId"],
      [{ name: "k", role: "ADMIN", allowedIps: ["10.0.0.0/33"] }, "allowedIps"],
      [{ name: "k", role: "ADMIN", allowedIps: ["example.com"] }, "allowedIps"],
      [{ name: "k", role: "ADMIN", rateLimitPerMinute: 0 }, "rateLimitPerMinute"],
      [{ name: " ", role: "ADMIN" }, "name"],
    ];
    for (const [input, field] of invalid) {
      const result = await graphql(hub.graphqlUrl, CreateApiKeyDocument, { apiKey: hub.adminKey, variables: { input: input as never } });
      expect(result.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code: "BAD_USER_INPUT", field });
    }
    const unknownOperator = await graphql(hub.graphqlUrl, CreateApiKeyDocument, {
      apiKey: hub.adminKey,
      variables: { input: { name: "k", role: "OPERATOR", operatorId: "00000000-0000-7000-8000-000000000000" } },
    });
    expect(unknownOperator.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("createCampaign needs an http(s) landing URL with {click_id}; operators create only their own", async () => {
    const bad = await graphql(hub.graphqlUrl, CreateCampaignDocument, {
      apiKey: hub.adminKey,
      variables: { input: { operatorId: alpha.operatorId, name: "c", landingUrl: "https://casino.example/no-macro" } },
    });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "landingUrl" });
    const own = await graphqlOk(hub.graphqlUrl, CreateCampaignDocument, {
      apiKey: alpha.apiKey,
      variables: { input: { operatorId: alpha.operatorId, name: "own", landingUrl: "https://alpha.example/?c={click_id}" } },
    });
    expect(own.createCampaign).toMatchObject({ operatorId: alpha.operatorId, clickPath: `/click/${own.createCampaign.id}` });
    const foreign = await graphql(hub.graphqlUrl, CreateCampaignDocument, {
      apiKey: alpha.apiKey,
      variables: { input: { operatorId: beta.operatorId, name: "theirs", landingUrl: "https://beta.example/?c={click_id}" } },
    });
    expect(foreign.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("never exposes a secret through the schema", async () => {
    const result = await graphqlOk<{ __schema: { types: Array<{ name: string; fields: Array<{ name: string }> | null }> } }>(
      hub.graphqlUrl,
      "{ __schema { types { name fields { name } } } }",
      { apiKey: hub.adminKey },
    );
    const readable = result.__schema.types
      // The create/rotate payloads show a new secret once; mutations are writes, not reads.
      .filter((type) => !["ApiKeyWithSecret", "OperatorWithSecret", "CreateWebhookEndpointPayload", "RotateWebhookSecretPayload", "Mutation"].includes(type.name))
      .flatMap((type) => (type.fields ?? []).map((field) => `${type.name}.${field.name}`));
    expect(readable.filter((name) => /secret|hash/i.test(name) && !/SecretRotatedAt|SecretExpiresAt|secretCreatedAt/.test(name))).toEqual([]);
  });
});

describe("tenant isolation: every tenant-data resolver", () => {
  it("operators: an operator key sees itself only; affiliates are refused", async () => {
    const own = await graphqlOk(hub.graphqlUrl, OperatorsDocument, { apiKey: alpha.apiKey, variables: {} });
    expect(own.operators.nodes.map((operator) => operator.id)).toEqual([alpha.operatorId]);
    expect(await codeOf(OperatorsDocument, partnerA.apiKey)).toBe("FORBIDDEN");
    const all = await graphqlOk(hub.graphqlUrl, OperatorsDocument, { apiKey: hub.adminKey, variables: {} });
    expect(all.operators.nodes.map((operator) => operator.id)).toEqual(expect.arrayContaining([alpha.operatorId, beta.operatorId]));
  });

  it("affiliates: an affiliate key sees itself only; operators are refused", async () => {
    const own = await graphqlOk(hub.graphqlUrl, AffiliatesDocument, { apiKey: partnerA.apiKey, variables: {} });
    expect(own.affiliates.nodes.map((affiliate) => affiliate.id)).toEqual([partnerA.affiliateId]);
    expect(await codeOf(AffiliatesDocument, alpha.apiKey)).toBe("FORBIDDEN");
  });

  it("campaigns: own operator only; asking for another's is FORBIDDEN", async () => {
    const own = await graphqlOk(hub.graphqlUrl, CampaignsDocument, { apiKey: alpha.apiKey, variables: {} });
    expect(own.campaigns.nodes.length).toBeGreaterThan(0);
    expect(own.campaigns.nodes.every((campaign) => campaign.operatorId === alpha.operatorId)).toBe(true);
    expect(await codeOf(CampaignsDocument, alpha.apiKey, { operatorId: beta.operatorId })).toBe("FORBIDDEN");
    expect(await codeOf(CampaignsDocument, partnerA.apiKey)).toBe("FORBIDDEN");
    const filtered = await graphqlOk(hub.graphqlUrl, CampaignsDocument, { apiKey: hub.adminKey, variables: { operatorId: beta.operatorId } });
    expect(filtered.campaigns.nodes.map((campaign) => campaign.id)).toEqual([betaCampaignId]);
  });

  it("apiKeys: each tenant sees its own keys only", async () => {
    const operatorView = await graphqlOk(hub.graphqlUrl, ApiKeysDocument, { apiKey: alpha.apiKey, variables: {} });
    expect(operatorView.apiKeys.nodes.length).toBeGreaterThan(0);
    expect(operatorView.apiKeys.nodes.every((key) => key.operatorId === alpha.operatorId)).toBe(true);
    const affiliateView = await graphqlOk(hub.graphqlUrl, ApiKeysDocument, { apiKey: partnerA.apiKey, variables: {} });
    expect(affiliateView.apiKeys.nodes.map((key) => key.affiliateId)).toEqual([partnerA.affiliateId]);
  });

  it("conversions and conversion: another tenant's are FORBIDDEN to ask for and NOT_FOUND to fetch", async () => {
    expect(await codeOf(ConversionsDocument, alpha.apiKey, { filter: { operatorId: beta.operatorId } })).toBe("FORBIDDEN");
    expect(await codeOf(ConversionsDocument, partnerA.apiKey, { filter: { affiliateId: partnerB.affiliateId } })).toBe("FORBIDDEN");
    const alphaView = await graphqlOk(hub.graphqlUrl, ConversionsDocument, { apiKey: alpha.apiKey, variables: {} });
    expect(alphaView.conversions.nodes.map((node) => node.id)).not.toContain(betaConversionId);
    const partnerAView = await graphqlOk(hub.graphqlUrl, ConversionsDocument, { apiKey: partnerA.apiKey, variables: {} });
    expect(partnerAView.conversions.nodes).toEqual([]);
    const partnerBView = await graphqlOk(hub.graphqlUrl, ConversionsDocument, { apiKey: partnerB.apiKey, variables: {} });
    expect(partnerBView.conversions.nodes.map((node) => node.id)).toEqual([betaConversionId]);

    expect(await codeOf(ConversionDocument, alpha.apiKey, { id: betaConversionId })).toBe("NOT_FOUND");
    expect(await codeOf(ConversionDocument, partnerA.apiKey, { id: betaConversionId })).toBe("NOT_FOUND");
    expect((await graphqlOk(hub.graphqlUrl, ConversionDocument, { apiKey: beta.apiKey, variables: { id: betaConversionId } })).conversion.id).toBe(betaConversionId);
    expect((await graphqlOk(hub.graphqlUrl, ConversionDocument, { apiKey: partnerB.apiKey, variables: { id: betaConversionId } })).conversion.id).toBe(betaConversionId);
  });

  it("requestLog: operators their own only; affiliates refused", async () => {
    expect(await codeOf(RequestLogDocument, alpha.apiKey, { filter: { operatorId: beta.operatorId } })).toBe("FORBIDDEN");
    expect(await codeOf(RequestLogDocument, partnerA.apiKey)).toBe("FORBIDDEN");
  });

  it("recordConversion: an operator records for itself only; affiliates never", async () => {
    const input = { clickId: `gql-${Date.now()}`, event: "registration" };
    expect((await recordAsAlpha({ ...input, operatorId: beta.operatorId })).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await codeOf(RecordConversionDocument, partnerA.apiKey, { input })).toBe("FORBIDDEN");
  });
});

describe("recordConversion over GraphQL", () => {
  it("follows the postback's rules and outcomes", async () => {
    const input = { customerId: `gql-player-${Date.now()}`, event: "deposit", eventId: `gql-${Date.now()}`, amount: "75.25", currency: "EUR", status: "PENDING" as const };
    const first = (await recordAsAlpha(input)).data!;
    expect(first.recordConversion).toMatchObject({ outcome: "ACCEPTED", conversion: { operatorId: alpha.operatorId, amount: "75.25", status: "PENDING", source: "GRAPHQL", attributed: false } });
    const again = (await recordAsAlpha(input)).data!;
    expect(again.recordConversion).toMatchObject({ outcome: "DUPLICATE", conversion: { id: first.recordConversion.conversion.id } });
    const approved = await graphqlOk(hub.graphqlUrl, RecordConversionDocument, { apiKey: hub.adminKey, variables: { input: { ...input, status: "APPROVED", operatorId: alpha.operatorId } } });
    expect(approved.recordConversion).toMatchObject({ outcome: "STATUS_CHANGED", conversion: { status: "APPROVED" } });

    const conflict = await recordAsAlpha({ ...input, amount: "1", status: "APPROVED" });
    expect(conflict.errors?.[0]?.extensions?.code).toBe("CONFLICTING_DUPLICATE");
    const backwards = await recordAsAlpha(input);
    expect(backwards.errors?.[0]?.extensions?.code).toBe("INVALID_TRANSITION");
    const badEvent = await recordAsAlpha({ ...input, eventId: null, event: "Not Valid" });
    expect(badEvent.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "event" });
    const noCurrency = await recordAsAlpha({ clickId: "c", event: "ftd", amount: "5" });
    expect(noCurrency.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "currency" });
    const adminWithoutOperator = await graphql(hub.graphqlUrl, RecordConversionDocument, { apiKey: hub.adminKey, variables: { input: { clickId: "c", event: "ftd" } } });
    expect(adminWithoutOperator.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "operatorId" });
  });
});

describe("API keys for the other tenants", () => {
  it("an affiliate key cannot send postbacks even with the operator's secret", async () => {
    const key = await createKey(hub, { role: "AFFILIATE", affiliateId: partnerA.affiliateId });
    const response = await getPostback(hub.urls.http, { click_id: "x", event: "ftd" }, { apiKey: key.secret, secret: alpha.postbackSecret });
    expect(response.status).toBe(403);
  });
});
