import { createHmac } from "node:crypto";
import {
  CreateAffiliateDocument,
  CreateApiKeyDocument,
  CreateCampaignDocument,
  CreateOperatorDocument,
  type ApiKeyRole,
} from "../generated/graphql";
import { graphqlOk } from "./graphql";
import type { AdminApi, TestHub } from "./hub";

/**
 * Test fixtures built through the public API (the way an admin would), and a postback
 * client that signs exactly as the README tells operators to. The signing here is
 * written independently of src/ on purpose: it checks the contract, not the code.
 */

export interface OperatorFixture {
  operatorId: string;
  postbackSecret: string;
  /** An OPERATOR key for it. */
  apiKey: string;
  apiKeyId: string;
}

export async function createOperator(hub: AdminApi, options: { requireSignature?: boolean; allowedIps?: string[]; rateLimitPerMinute?: number } = {}): Promise<OperatorFixture> {
  const created = await graphqlOk(hub.graphqlUrl, CreateOperatorDocument, {
    apiKey: hub.adminKey,
    variables: { input: { name: `Casino ${Math.random().toString(36).slice(2, 8)}`, requireSignature: options.requireSignature ?? true } },
  });
  const key = await createKey(hub, { role: "OPERATOR", operatorId: created.createOperator.operator.id, allowedIps: options.allowedIps, rateLimitPerMinute: options.rateLimitPerMinute });
  return { operatorId: created.createOperator.operator.id, postbackSecret: created.createOperator.postbackSecret, apiKey: key.secret, apiKeyId: key.id };
}

export async function createKey(
  hub: AdminApi,
  input: { role: ApiKeyRole; operatorId?: string; affiliateId?: string; allowedIps?: string[]; rateLimitPerMinute?: number },
): Promise<{ id: string; secret: string }> {
  const created = await graphqlOk(hub.graphqlUrl, CreateApiKeyDocument, {
    apiKey: hub.adminKey,
    variables: { input: { name: `${input.role.toLowerCase()} test key`, ...input } },
  });
  return { id: created.createApiKey.apiKey.id, secret: created.createApiKey.secret };
}

export async function createAffiliate(hub: TestHub): Promise<{ affiliateId: string; apiKey: string }> {
  const created = await graphqlOk(hub.graphqlUrl, CreateAffiliateDocument, {
    apiKey: hub.adminKey,
    variables: { input: { name: `Partner ${Math.random().toString(36).slice(2, 8)}`, email: "partner@example.com" } },
  });
  const key = await createKey(hub, { role: "AFFILIATE", affiliateId: created.createAffiliate.id });
  return { affiliateId: created.createAffiliate.id, apiKey: key.secret };
}

export async function createCampaign(hub: TestHub, operatorId: string, landingUrl = "https://casino.example/welcome?cid={click_id}"): Promise<string> {
  const created = await graphqlOk(hub.graphqlUrl, CreateCampaignDocument, {
    apiKey: hub.adminKey,
    variables: { input: { operatorId, name: "Welcome bonus", landingUrl } },
  });
  return created.createCampaign.id;
}

/** The README's recipe: HMAC-SHA256(secret, timestamp + "." + payload), lowercase hex. */
export function sign(secret: string, timestamp: number | string, payload: string | Buffer): string {
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.`).update(payload).digest("hex")}`;
}

/** The README's canonical query: all but signature/timestamp/api_key, sorted by name then value, encodeURIComponent'd. */
export function canonical(params: Array<[string, string]>): string {
  return params
    .filter(([name]) => !["signature", "timestamp", "api_key"].includes(name))
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join("&");
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export interface PostbackResponse {
  status: number;
  body: { status?: string; conversionId?: string; attributed?: boolean; conversionStatus?: string; previousStatus?: string; error?: { code: string; message: string; field?: string } };
  headers: Headers;
}

async function toResponse(response: Response): Promise<PostbackResponse> {
  const text = await response.text();
  let body: PostbackResponse["body"] = {};
  try {
    body = JSON.parse(text) as PostbackResponse["body"];
  } catch {
    // non-JSON bodies (none expected) leave body empty
  }
  return { status: response.status, body, headers: response.headers };
}

export interface SendOptions {
  /** Sent as X-Api-Key unless keyIn says otherwise; omitted when undefined. */
  apiKey?: string;
  keyIn?: "header" | "bearer" | "query";
  /** Signs with this secret; no signature at all when undefined. */
  secret?: string;
  timestamp?: number;
  /** GET only: carry timestamp and signature as query parameters instead of headers. */
  signatureInQuery?: boolean;
  /** Replaces the computed signature. */
  signature?: string;
  headers?: Record<string, string>;
}

function keyHeaders(options: SendOptions): Record<string, string> {
  if (options.apiKey === undefined || options.keyIn === "query") return {};
  return options.keyIn === "bearer" ? { authorization: `Bearer ${options.apiKey}` } : { "x-api-key": options.apiKey };
}

export async function getPostback(baseUrl: string, params: Record<string, string> | Array<[string, string]>, options: SendOptions = {}): Promise<PostbackResponse> {
  const pairs: Array<[string, string]> = Array.isArray(params) ? [...params] : Object.entries(params);
  const headers: Record<string, string> = { ...keyHeaders(options), ...options.headers };
  const query: Array<[string, string]> = [...pairs];
  if (options.apiKey !== undefined && options.keyIn === "query") query.push(["api_key", options.apiKey]);
  if (options.secret !== undefined || options.signature !== undefined) {
    const timestamp = options.timestamp ?? nowSeconds();
    const signature = options.signature ?? sign(options.secret!, timestamp, canonical(pairs));
    if (options.signatureInQuery) query.push(["timestamp", String(timestamp)], ["signature", signature]);
    else Object.assign(headers, { "x-hub-timestamp": String(timestamp), "x-hub-signature": signature });
  }
  const search = new URLSearchParams(query).toString();
  return toResponse(await fetch(`${baseUrl}/postback?${search}`, { headers }));
}

export async function postPostback(
  baseUrl: string,
  body: string | Buffer,
  contentType: string | undefined,
  options: SendOptions = {},
): Promise<PostbackResponse> {
  const headers: Record<string, string> = { ...keyHeaders(options), ...(contentType ? { "content-type": contentType } : {}), ...options.headers };
  if (options.secret !== undefined || options.signature !== undefined) {
    const timestamp = options.timestamp ?? nowSeconds();
    Object.assign(headers, { "x-hub-timestamp": String(timestamp), "x-hub-signature": options.signature ?? sign(options.secret!, timestamp, body) });
  }
  const query = options.apiKey !== undefined && options.keyIn === "query" ? `?api_key=${encodeURIComponent(options.apiKey)}` : "";
  return toResponse(await fetch(`${baseUrl}/postback${query}`, { method: "POST", headers, body }));
}

export function postJson(baseUrl: string, params: Record<string, unknown>, options: SendOptions = {}): Promise<PostbackResponse> {
  return postPostback(baseUrl, JSON.stringify(params), "application/json", options);
}

/** Rows the inbound path writes (everything but the request log). */
export async function writtenRows(hub: TestHub): Promise<Record<string, number>> {
  const { rows } = await hub.db.query<{ conversions: number; changes: number; events: number; clicks: number }>(
    `select (select count(*)::int from conversion) as conversions,
            (select count(*)::int from conversion_status_change) as changes,
            (select count(*)::int from event) as events,
            (select count(*)::int from click) as clicks`,
  );
  return rows[0]!;
}

/**
 * A GraphQL POST signed like a POST postback: the HMAC covers the exact HTTP body sent.
 * `tamper` changes the body after signing; `signature` replaces the computed one.
 */
export async function signedGraphql<T = Record<string, unknown>>(
  url: string,
  query: string,
  options: {
    apiKey: string;
    secret?: string;
    variables?: Record<string, unknown>;
    timestamp?: number;
    signature?: string;
    tamper?: (body: string) => string;
    headers?: Record<string, string>;
  },
): Promise<{ status: number; data?: T | null; errors?: Array<{ message: string; extensions?: { code?: string; field?: string } }> }> {
  const body = JSON.stringify({ query, variables: options.variables });
  const headers: Record<string, string> = { "content-type": "application/json", "x-api-key": options.apiKey, ...options.headers };
  if (options.secret !== undefined || options.signature !== undefined) {
    const timestamp = options.timestamp ?? nowSeconds();
    Object.assign(headers, { "x-hub-timestamp": String(timestamp), "x-hub-signature": options.signature ?? sign(options.secret!, timestamp, body) });
  }
  const response = await fetch(url, { method: "POST", headers, body: options.tamper ? options.tamper(body) : body });
  return { status: response.status, ...((await response.json()) as object) };
}
