import { readFileSync } from "node:fs";
import path from "node:path";
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateWebhookEndpointDocument } from "../generated/graphql";
import { graphql, graphqlOk, wsClient } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { createAffiliate, createCampaign, createOperator, nowSeconds, postPostback, sign, signedGraphql, type OperatorFixture } from "../helpers/inbound";
import { waitFor } from "../helpers/wait-for";
import { WebhookReceiver } from "../helpers/webhook-receiver";

/**
 * Issue 10, hole 6: an affiliate key read the operator's raw request (client IP, signature,
 * timestamp, request id, unknown parameters) and the operator's key id through the
 * conversion attributed to it. This file is the record of what an affiliate key may read.
 *
 * AFFILIATE_VIEW lists every object type an affiliate key can reach and, per type, every
 * field: `reads` (it gets the value) or `nulled` (it gets null; admins and the owning
 * operator get the value). A type or field added to the schema fails this test until
 * someone decides which list it belongs to.
 */
const AFFILIATE_ROOTS = {
  Query: ["affiliates", "alerts", "apiKeys", "conversion", "conversions", "deliveries", "deliveryReplayBatch", "event", "hub", "queueStats", "webhookEndpoint", "webhookEndpoints"],
  Mutation: [
    "acknowledgeAlert", "createWebhookEndpoint", "deleteWebhookEndpoint", "disableWebhookEndpoint", "enableWebhookEndpoint", "replayDelivery",
    "replayEvent", "replayFailedDeliveries", "rotateWebhookSecret", "sendLiveProbe", "sendTestWebhook", "updateWebhookEndpoint",
  ],
  Subscription: ["alertRaised", "conversionRecorded", "deliveryAttempted", "heartbeat", "liveProbes", "queueDepthChanged"],
} as const;

const AFFILIATE_VIEW: Record<string, { reads: string[]; nulled?: string[] }> = {
  // Its own record and its own keys (never a secret; allowedIps are its own).
  Affiliate: { reads: ["createdAt", "email", "id", "name"] },
  ApiKey: { reads: ["affiliateId", "allowedIps", "createdAt", "id", "lastUsedAt", "name", "operatorId", "prefix", "rateLimitPerMinute", "revokedAt", "role"] },
  // Conversions attributed to it: the business fields, not the operator's request.
  Conversion: {
    reads: [
      "affiliateId", "amount", "attributed", "attribution", "clickId", "createdAt", "currency", "customerId", "event", "eventId", "id", "occurredAt",
      "operatorId", "source", "status", "statusChangedAt", "statusHistory", "sub1", "sub2", "sub3", "sub4", "sub5",
    ],
    nulled: ["rawRequest"],
  },
  ConversionStatusChange: { reads: ["changedAt", "fromStatus", "source", "toStatus"], nulled: ["apiKeyId"] },
  ConversionConnection: { reads: ["nodes", "pageInfo"] },
  ConversionLiveEvent: { reads: ["at", "conversion", "eventId", "kind", "previousStatus", "status"] },
  PageInfo: { reads: ["endCursor", "hasNextPage"] },
  // Its own endpoints, their deliveries and attempts (responses from its own receiver). `worker` is the
  // hub's host:pid, not the operator's data (HubProcess hides host and pid from tenants; see the report on issue 10).
  WebhookEndpoint: {
    reads: [
      "createdAt", "description", "disabledAt", "disabledReason", "enabled", "eventTypes", "failingSince", "format", "id", "maxInFlight", "ownerAffiliateId",
      "ownerOperatorId", "previousSecretExpiresAt", "rateLimitPerSecond", "secretCreatedAt", "stats", "updatedAt", "url",
    ],
  },
  WebhookEndpointStats: {
    reads: [
      "averageDurationMs", "dead", "dueNow", "inFlight", "lastAttemptAt", "lastFailureAt", "lastSuccessAt", "oldestPendingAgeSeconds", "pending",
      "recentAttempts", "recentFailed", "recentSucceeded", "scheduledRetries",
    ],
  },
  CreateWebhookEndpointPayload: { reads: ["endpoint", "secret"] },
  RotateWebhookSecretPayload: { reads: ["endpoint", "secret"] },
  DeliveryConnection: { reads: ["nodes", "pageInfo"] },
  AffiliateConnection: { reads: ["nodes", "pageInfo"] },
  AlertConnection: { reads: ["nodes", "pageInfo"] },
  ApiKeyConnection: { reads: ["nodes", "pageInfo"] },
  WebhookEndpointConnection: { reads: ["nodes", "pageInfo"] },
  Delivery: {
    reads: [
      "attemptCount", "attempts", "createdAt", "deadAt", "endpointId", "event", "eventId", "id", "inFlight", "lastAttemptAt", "lastErrorClass",
      "lastHttpStatus", "nextAttemptAt", "queuedAt", "replay", "series", "state", "succeededAt",
    ],
  },
  DeliveryAttempt: {
    reads: [
      "attemptNumber", "deliveryId", "durationMs", "endpointId", "errorClass", "errorMessage", "eventId", "httpStatus", "id", "nextAttemptAt",
      "replay", "responseBody", "responseHeaders", "series", "startedAt", "succeeded", "worker",
    ],
  },
  // Events about it (the webhook data: business fields only); `deliveries` lists only its own endpoints'.
  OutboundEvent: { reads: ["affiliateId", "createdAt", "deliveries", "id", "operatorId", "payload", "type"] },
  DeliveryReplayBatch: { reads: ["createdAt", "endpointId", "error", "finishedAt", "id", "matched", "replayed", "since", "state", "until"] },
  QueueStats: { reads: ["dead", "dueNow", "endpoints", "inFlight", "oldestPendingAgeSeconds", "pending", "sampledAt", "scheduledRetries"] },
  EndpointQueueStats: { reads: ["dead", "dueNow", "enabled", "endpointId", "inFlight", "oldestPendingAgeSeconds", "pending", "scheduledRetries"] },
  // Alerts about its own endpoints.
  Alert: { reads: ["acknowledgedAt", "active", "affiliateId", "details", "endpointId", "id", "key", "kind", "message", "operatorId", "raisedAt", "resolvedAt", "severity"] },
  HubInfo: { reads: ["now", "role", "version"] },
  HubProcess: { reads: ["role", "version"], nulled: ["hostname", "pid"] },
  LiveProbe: { reads: ["id", "route", "sentAt", "sentBy"] },
  LiveProbeEcho: { reads: ["answeredAt", "answeredBy", "probeId", "receivedAt", "receivedBy", "route", "sentAt", "sentBy"] },
};

const schema = buildSchema(readFileSync(path.resolve(__dirname, "../../schema/schema.graphql"), "utf8"));

function rootType(kind: keyof typeof AFFILIATE_ROOTS): GraphQLObjectType {
  const type = kind === "Query" ? schema.getQueryType() : kind === "Mutation" ? schema.getMutationType() : schema.getSubscriptionType();
  return type!;
}

/** Object types reachable through the affiliate's root fields and the fields it reads (a nulled field leads nowhere). */
function reachableTypes(): Set<string> {
  const seen = new Set<string>();
  const visit = (field: GraphQLField<unknown, unknown>) => {
    const type = getNamedType(field.type);
    if (!isObjectType(type) || seen.has(type.name)) return;
    seen.add(type.name);
    const view = AFFILIATE_VIEW[type.name];
    for (const [name, child] of Object.entries(type.getFields())) if (!view || view.reads.includes(name)) visit(child);
  };
  for (const kind of Object.keys(AFFILIATE_ROOTS) as Array<keyof typeof AFFILIATE_ROOTS>) {
    for (const name of AFFILIATE_ROOTS[kind]) visit(rootType(kind).getFields()[name]!);
  }
  return seen;
}

/** Every field (and __typename) of a type, object fields expanded, each type at most once on a path. */
function selectionOf(typeName: string, depth = 5, path: string[] = []): string {
  const type = schema.getType(typeName) as GraphQLObjectType;
  const fields = Object.values(type.getFields())
    .filter((field) => field.args.every((arg) => !isNonNullType(arg.type) || arg.defaultValue !== undefined))
    .flatMap((field) => {
      const named = getNamedType(field.type);
      if (!isObjectType(named)) return [field.name];
      if (depth === 0 || path.includes(named.name)) return [];
      return [`${field.name} ${selectionOf(named.name, depth - 1, [...path, typeName])}`];
    });
  return `{ __typename ${fields.join(" ")} }`;
}

/** A value of the argument's type, for calls that must be refused before they run. */
function placeholder(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return placeholder(type.ofType);
  if (isListType(type)) return [placeholder(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) {
    return Object.fromEntries(Object.values(type.getFields()).filter((field) => isNonNullType(field.type)).map((field) => [field.name, placeholder(field.type)]));
  }
  if (isScalarType(type)) {
    const scalars: Record<string, unknown> = { ID: "0190a8d2-0000-7000-8000-000000000000", String: "x", Int: 1, Float: 1, Boolean: true, DateTime: new Date().toISOString(), Decimal: "1", JSONObject: {} };
    return scalars[type.name];
  }
  throw new Error(`no placeholder for ${String(type)}`);
}

function operationFor(kind: "query" | "mutation" | "subscription", field: GraphQLField<unknown, unknown>): { query: string; variables: Record<string, unknown> } {
  const required = field.args.filter((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined);
  const variables = Object.fromEntries(required.map((arg) => [arg.name, placeholder(arg.type)]));
  const declared = required.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(", ");
  const passed = required.map((arg) => `${arg.name}: $${arg.name}`).join(", ");
  const selection = isObjectType(getNamedType(field.type)) ? "{ __typename }" : "";
  return { query: `${kind}${declared ? `(${declared})` : ""} { ${field.name}${passed ? `(${passed})` : ""} ${selection} }`, variables };
}

/** Every object in an answer, with its __typename. */
function typedObjects(value: unknown, found: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(value)) value.forEach((item) => typedObjects(item, found));
  else if (value && typeof value === "object") {
    const object = value as Record<string, unknown>;
    if (typeof object.__typename === "string") found.push(object);
    Object.values(object).forEach((child) => typedObjects(child, found));
  }
  return found;
}

describe("the affiliate's view of the schema", () => {
  it("lists every object type an affiliate key can reach, with every field decided", () => {
    const reachable = reachableTypes();
    expect([...reachable].sort()).toEqual(Object.keys(AFFILIATE_VIEW).sort());
    for (const name of reachable) {
      const view = AFFILIATE_VIEW[name]!;
      const fields = Object.keys((schema.getType(name) as GraphQLObjectType).getFields()).sort();
      expect(fields, `fields of ${name}`).toEqual([...view.reads, ...(view.nulled ?? [])].sort());
      for (const nulled of view.nulled ?? []) {
        const field = (schema.getType(name) as GraphQLObjectType).getFields()[nulled]!;
        expect(isNonNullType(field.type), `${name}.${nulled} must be nullable to be nulled`).toBe(false);
      }
    }
    // Every root field is either the affiliate's or refused to it (checked against the live hub below).
    for (const kind of Object.keys(AFFILIATE_ROOTS) as Array<keyof typeof AFFILIATE_ROOTS>) {
      for (const name of AFFILIATE_ROOTS[kind]) expect(rootType(kind).getFields()[name], `${kind}.${name}`).toBeDefined();
    }
  });
});

describe("an affiliate key on a live hub", () => {
  const OPERATOR_IP = "198.51.100.77";
  const REQUEST_ID = "operator-request-7f3a";
  const NETWORK_REF = "network-ref-only-the-operator-sees";
  let hub: TestHub;
  let receiver: WebhookReceiver;
  let operator: OperatorFixture;
  let affiliate: { affiliateId: string; apiKey: string };
  let conversionId: string;
  let signature: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    hub = await startTestHub({ env: { TRUST_PROXY: "127.0.0.1/32", WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" } });
    receiver = await WebhookReceiver.start(() => ({ status: 200, body: "ok" }));
    operator = await createOperator(hub);
    affiliate = await createAffiliate(hub);
    const endpoint = await graphqlOk(hub.graphqlUrl, CreateWebhookEndpointDocument, { apiKey: affiliate.apiKey, variables: { input: { url: receiver.url() } } });
    ids.webhookEndpoint = endpoint.createWebhookEndpoint.endpoint.id;

    const campaignId = await createCampaign(hub, operator.operatorId);
    const redirect = await fetch(`${hub.urls.http}/click/${campaignId}?affiliate_id=${affiliate.affiliateId}`, { redirect: "manual" });
    const clickId = new URL(redirect.headers.get("location")!).searchParams.get("cid")!;
    // The operator's postback from its own address, with a parameter the hub does not know.
    const body = JSON.stringify({ click_id: clickId, event: "ftd", event_id: `dep-${Date.now()}`, amount: "50.00", currency: "EUR", status: "pending", network_ref: NETWORK_REF });
    const timestamp = nowSeconds();
    signature = sign(operator.postbackSecret, timestamp, body);
    const recorded = await postPostback(hub.urls.http, body, "application/json", {
      apiKey: operator.apiKey,
      signature,
      timestamp,
      headers: { "x-forwarded-for": OPERATOR_IP, "x-request-id": REQUEST_ID },
    });
    expect(recorded.status).toBe(200);
    conversionId = recorded.body.conversionId!;
    ids.conversion = conversionId;
    const { rows } = await hub.db.query<{ id: string }>("select id from event where payload->>'conversionId' = $1", [conversionId]);
    ids.event = rows[0]!.id;
    await waitFor(async () => (await hub.db.query("select 1 from delivery where event_id = $1 and state = 'succeeded'", [ids.event])).rowCount, { what: "the affiliate's delivery" });
    const batch = await graphqlOk<{ replayFailedDeliveries: { id: string } }>(hub.graphqlUrl, "mutation($e: ID!, $s: DateTime!) { replayFailedDeliveries(endpointId: $e, since: $s) { id } }", {
      apiKey: affiliate.apiKey,
      variables: { e: ids.webhookEndpoint, s: new Date(Date.now() - 3_600_000).toISOString() } as never,
    });
    ids.deliveryReplayBatch = batch.replayFailedDeliveries.id;
  });
  afterAll(async () => {
    await hub?.stop();
    await receiver?.close();
  });

  /** Strings that only the operator (and admins) may ever see. */
  const operatorSecrets = () => [OPERATOR_IP, REQUEST_ID, NETWORK_REF, signature, operator.apiKeyId];

  const CONVERSION = `query($id: ID!) { conversion(id: $id) { id event amount clickId status rawRequest statusHistory { toStatus apiKeyId } } }`;
  type ConversionAnswer = { conversion: { id: string; event: string; amount: string; clickId: string; status: string; rawRequest: Record<string, unknown> | null; statusHistory: Array<{ toStatus: string; apiKeyId: string | null }> } };

  it("reads the conversion's business fields, and null for its raw request and the key ids of its history", async () => {
    const answer = await graphql<ConversionAnswer>(hub.graphqlUrl, CONVERSION, { apiKey: affiliate.apiKey, variables: { id: conversionId } as never });
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.conversion).toMatchObject({ id: conversionId, event: "ftd", amount: "50", status: "PENDING", rawRequest: null, statusHistory: [{ toStatus: "PENDING", apiKeyId: null }] });
  });

  it("the owning operator and admins still read them", async () => {
    for (const apiKey of [operator.apiKey, hub.adminKey]) {
      const { conversion } = await graphqlOk<ConversionAnswer>(hub.graphqlUrl, CONVERSION, { apiKey, variables: { id: conversionId } as never });
      expect(conversion.rawRequest).toMatchObject({ clientIp: OPERATOR_IP, requestId: REQUEST_ID, signature, parameters: expect.objectContaining({ network_ref: NETWORK_REF }) });
      expect(conversion.statusHistory[0]!.apiKeyId).toBe(operator.apiKeyId);
    }
  });

  it("never sees the operator's request details anywhere it can reach, and gets null for every nulled field", async () => {
    const answers: unknown[] = [];
    const query = rootType("Query");
    for (const name of AFFILIATE_ROOTS.Query) {
      const field = query.getFields()[name]!;
      const required = field.args.filter((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined);
      const declared = required.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(", ");
      const passed = required.map((arg) => `${arg.name}: $${arg.name}`).join(", ");
      const document = `query${declared ? `(${declared})` : ""} { ${name}${passed ? `(${passed})` : ""} ${selectionOf(getNamedType(field.type).name)} }`;
      const answer = await graphql(hub.graphqlUrl, document, { apiKey: affiliate.apiKey, variables: Object.fromEntries(required.map((arg) => [arg.name, ids[name]])) as never });
      expect(answer.errors, name).toBeUndefined();
      answers.push(answer.data);
    }
    const probe = await graphqlOk(hub.graphqlUrl, `mutation { sendLiveProbe(route: API) ${selectionOf("LiveProbe")} }`, { apiKey: affiliate.apiKey });
    answers.push(probe);

    const text = JSON.stringify(answers);
    for (const secret of operatorSecrets()) expect(text, `an affiliate's answers contain ${secret}`).not.toContain(secret);
    const objects = typedObjects(answers);
    const nulledSeen = new Set<string>();
    for (const object of objects) {
      for (const field of AFFILIATE_VIEW[object.__typename as string]?.nulled ?? []) {
        if (!(field in object)) continue;
        nulledSeen.add(`${String(object.__typename)}.${field}`);
        expect(object[field], `${String(object.__typename)}.${field}`).toBeNull();
      }
    }
    // The walk did reach every nulled field (so the nulls above were really checked).
    expect([...nulledSeen].sort()).toEqual(Object.entries(AFFILIATE_VIEW).flatMap(([type, view]) => (view.nulled ?? []).map((field) => `${type}.${field}`)).sort());
    // And the business data did come through.
    expect(text).toContain(conversionId);
  });

  it("gets null for them in conversionRecorded too", async () => {
    const client = wsClient(hub.websocketUrl, affiliate.apiKey);
    const events: Array<{ data?: { conversionRecorded: { conversion: { id: string; rawRequest: unknown; statusHistory: Array<{ apiKeyId: string | null }> } } } }> = [];
    const dispose = client.subscribe(
      { query: `subscription { conversionRecorded ${selectionOf("ConversionLiveEvent")} }` },
      { next: (value) => void events.push(value as (typeof events)[number]), error: () => undefined, complete: () => undefined },
    );
    try {
      // Status changes until the subscription, once live, sees one.
      const statuses = ["APPROVED", "REVERSED"];
      await waitFor(
        async () => {
          const next = statuses.shift();
          if (next) {
            const changed = await signedGraphql(hub.graphqlUrl, "mutation($i: RecordConversionInput!) { recordConversion(input: $i) { outcome } }", {
              apiKey: operator.apiKey,
              secret: operator.postbackSecret,
              variables: { i: { eventId: (await hub.db.query<{ event_id: string }>("select event_id from conversion where id = $1", [conversionId])).rows[0]!.event_id, clickId: "x", event: "ftd", status: next } },
              headers: { "x-forwarded-for": OPERATOR_IP },
            });
            expect(changed.errors).toBeUndefined();
          }
          return events.length > 0;
        },
        { timeoutMs: 20_000, intervalMs: 500, what: "a conversionRecorded event" },
      );
      const conversion = events[0]!.data!.conversionRecorded.conversion;
      expect(conversion.id).toBe(conversionId);
      expect(conversion.rawRequest).toBeNull();
      expect(conversion.statusHistory.length).toBeGreaterThan(1);
      expect(conversion.statusHistory.every((change) => change.apiKeyId === null)).toBe(true);
      const text = JSON.stringify(events);
      for (const secret of operatorSecrets()) expect(text).not.toContain(secret);
    } finally {
      dispose();
      await client.dispose();
    }
  });

  it("is refused every root field not in its list", async () => {
    for (const kind of ["Query", "Mutation"] as const) {
      for (const field of Object.values(rootType(kind).getFields())) {
        if ((AFFILIATE_ROOTS[kind] as readonly string[]).includes(field.name)) continue;
        const { query, variables } = operationFor(kind === "Query" ? "query" : "mutation", field);
        const answer = await graphql(hub.graphqlUrl, query, { apiKey: affiliate.apiKey, variables: variables as never });
        expect(answer.errors?.[0]?.extensions?.code, `${kind}.${field.name}`).toBe("FORBIDDEN");
      }
    }
    const client = wsClient(hub.websocketUrl, affiliate.apiKey);
    try {
      for (const field of Object.values(rootType("Subscription").getFields())) {
        if ((AFFILIATE_ROOTS.Subscription as readonly string[]).includes(field.name)) continue;
        const { query, variables } = operationFor("subscription", field);
        const first = await new Promise<{ errors?: Array<{ extensions?: { code?: string } }> }>((resolve, reject) => {
          const dispose = client.subscribe({ query, variables }, {
            next: (value) => {
              dispose();
              resolve(value as { errors?: Array<{ extensions?: { code?: string } }> });
            },
            error: reject,
            complete: () => resolve({}),
          });
        });
        expect(first.errors?.[0]?.extensions?.code, `Subscription.${field.name}`).toBe("FORBIDDEN");
      }
    } finally {
      await client.dispose();
    }
  });
});
