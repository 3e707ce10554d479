import type { BenchHub } from "./hub-process";
import { graphqlClient } from "./graphql-client";

/**
 * Sets the hub up through its public GraphQL API, as an operator would: nothing in the
 * bench writes the hub's tables except the queue-stats seeding, which must reach a
 * million rows.
 */

/** Names of the mutations and queries the hub serves, to tell which features are merged. */
export async function hubOperations(hub: BenchHub): Promise<Set<string>> {
  const data = await graphqlClient(hub.graphqlUrl, hub.adminKey).request<{
    __schema: { queryType: { fields: Array<{ name: string }> }; mutationType: { fields: Array<{ name: string }> } | null };
  }>("{ __schema { queryType { fields { name } } mutationType { fields { name } } } }");
  return new Set([...data.__schema.queryType.fields, ...(data.__schema.mutationType?.fields ?? [])].map((field) => field.name));
}

export interface PostbackTenant {
  operatorId: string;
  apiKey: string;
  postbackSecret: string;
  clickIds: string[];
}

const LOOPBACK_ONLY = ["127.0.0.1/32", "::1/128"];
/** High enough never to refuse a benchmark request; the limiter still runs on each one. */
const BENCH_RATE_LIMIT_PER_MINUTE = 10_000_000;

/**
 * An operator with its signing secret, an operator key limited to loopback with a high
 * rate limit, and `clicks` real clicks (through `GET /click/…`) so postbacks are attributed.
 */
export async function createPostbackTenant(hub: BenchHub, name: string, clicks: number): Promise<PostbackTenant> {
  const admin = graphqlClient(hub.graphqlUrl, hub.adminKey);
  const { createOperator } = await admin.request<{ createOperator: { operator: { id: string }; postbackSecret: string } }>(
    `mutation ($input: CreateOperatorInput!) { createOperator(input: $input) { operator { id } postbackSecret } }`,
    { input: { name } },
  );
  const operatorId = createOperator.operator.id;
  const { createApiKey } = await admin.request<{ createApiKey: { secret: string } }>(
    `mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }`,
    {
      input: { role: "OPERATOR", operatorId, name: `${name} key`, allowedIps: LOOPBACK_ONLY, rateLimitPerMinute: BENCH_RATE_LIMIT_PER_MINUTE },
    },
  );
  const { createAffiliate } = await admin.request<{ createAffiliate: { id: string } }>(
    `mutation ($input: CreateAffiliateInput!) { createAffiliate(input: $input) { id } }`,
    { input: { name: `${name} affiliate` } },
  );
  const { createCampaign } = await admin.request<{ createCampaign: { id: string } }>(
    `mutation ($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`,
    { input: { operatorId, name: `${name} campaign`, landingUrl: "https://landing.example/welcome?cid={click_id}" } },
  );
  const clickIds: string[] = [];
  for (let i = 0; i < clicks; i++) {
    const response = await fetch(`${hub.baseUrl}/click/${createCampaign.id}?affiliate_id=${createAffiliate.id}&sub1=bench`, {
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    });
    const location = response.headers.get("location");
    const clickId = location ? new URL(location).searchParams.get("cid") : null;
    if (response.status !== 302 || !clickId) throw new Error(`click redirect answered ${response.status} without a click id`);
    clickIds.push(clickId);
  }
  return { operatorId, apiKey: createApiKey.secret, postbackSecret: createOperator.postbackSecret, clickIds };
}

export interface WebhookEndpointCreated {
  id: string;
  secret: string;
}

export async function createWebhookEndpoint(
  hub: BenchHub,
  input: { url: string; eventTypes?: string[]; enabled?: boolean; description?: string },
): Promise<WebhookEndpointCreated> {
  const { createWebhookEndpoint } = await graphqlClient(hub.graphqlUrl, hub.adminKey).request<{
    createWebhookEndpoint: { endpoint: { id: string }; secret: string };
  }>(`mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } secret } }`, { input });
  return { id: createWebhookEndpoint.endpoint.id, secret: createWebhookEndpoint.secret };
}
