import type { EntityManager } from "@mikro-orm/postgresql";
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from "../common/errors";
import { findPage, oldestFirstById, type Page } from "../common/pagination";
import { MAX_IN_FLIGHT_PER_ENDPOINT } from "../config";
import type { RequestContext } from "../context";
import { Affiliate } from "../tenants/affiliate.entity";
import { Operator } from "../tenants/operator.entity";
import { resolveAlert } from "../alerts/alert.service";
import { deadKey, disabledKey, rotationKey } from "../alerts/alert-rules";
import { addDeliveryJobsSql } from "./delivery-jobs";
import { Delivery } from "./delivery.entity";
import { endpointScopeFilter } from "./endpoint-scope";
import { scopeOf, type TenantScope } from "../common/tenant-scope";
import { isAdmin } from "../common/viewer";
import { findEventType, postbackUrlEventTypes } from "../outbox/event-types";
import type { EventTypeSpec } from "../common/event-type";
import { checkPostbackTemplate, PostbackTemplateError, templateSample } from "./postback-template";
import { generateWebhookSecret } from "./signing";
import { bareHostname, checkTargetUrl, resolveChecked, TargetRefusedError } from "./target-guard";
import { EndpointDisabledReason, WebhookEndpoint, WebhookFormat } from "./webhook-endpoint.entity";
import ipaddr from "ipaddr.js";
import { publishEvent } from "../outbox/publish";
import { WEBHOOK_TEST } from "./webhook-events";

export const MAX_URL_LENGTH = 2_000;
export const MAX_RATE_LIMIT_PER_SECOND = 10_000;
export const MAX_GRACE_PERIOD_HOURS = 720;
/** How long creating an endpoint waits for DNS before leaving the check to delivery time. */
const CREATE_DNS_TIMEOUT_MS = 3_000;

export interface EndpointFields {
  url?: string;
  description?: string | null;
  format?: WebhookFormat;
  eventTypes?: string[];
  rateLimitPerSecond?: number | null;
  maxInFlight?: number | null;
}

export interface CreateEndpointInput extends EndpointFields {
  url: string;
  ownerOperatorId?: string | null;
  ownerAffiliateId?: string | null;
  enabled?: boolean;
}

export async function findVisibleEndpoint(ctx: RequestContext, id: string, scope: TenantScope = scopeOf(ctx.viewer)): Promise<WebhookEndpoint> {
  const endpoint = await ctx.em.findOne(WebhookEndpoint, { id, ...endpointScopeFilter(scope) });
  // Someone else's endpoint is reported exactly like a missing one.
  if (!endpoint) throw new NotFoundError("Webhook endpoint", id);
  return endpoint;
}

export const ENDPOINT_LIST = oldestFirstById("webhookEndpoints");

export async function listEndpoints(ctx: RequestContext, first?: number | null, after?: string | null): Promise<Page<WebhookEndpoint>> {
  return findPage(ctx.em, WebhookEndpoint, endpointScopeFilter(scopeOf(ctx.viewer)), ENDPOINT_LIST, { first, after });
}

function checkEventTypes(catalogue: readonly EventTypeSpec[], types: string[], format: WebhookFormat): string[] {
  const unique = [...new Set(types.map((type) => type.trim()))];
  const unknown = unique.filter((type) => !findEventType(catalogue, type));
  if (unknown.length > 0) {
    throw new BadUserInputError(`eventTypes has unknown types ${unknown.join(", ")}; known: ${catalogue.map((spec) => spec.name).join(", ")}`, { field: "eventTypes" });
  }
  if (format === WebhookFormat.POSTBACK_URL) {
    const postbackTypes = postbackUrlEventTypes(catalogue);
    const refused = unique.filter((type) => !postbackTypes.includes(type));
    if (refused.length > 0) {
      throw new BadUserInputError(`a POSTBACK_URL endpoint receives conversion events only (${postbackTypes.join(", ")}), not ${refused.join(", ")}`, { field: "eventTypes" });
    }
  }
  return unique;
}

async function resolveWithin(hostname: string, allowPrivate: boolean, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([resolveChecked(hostname, allowPrivate), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** URL rules for both formats; refusals are BAD_USER_INPUT on `url`, naming the reason. */
export async function checkEndpointUrl(url: string, format: WebhookFormat, allowPrivate: boolean): Promise<string> {
  const text = url.trim();
  if (text.length === 0 || text.length > MAX_URL_LENGTH) throw new BadUserInputError(`url must be 1-${MAX_URL_LENGTH} characters`, { field: "url" });
  try {
    if (format === WebhookFormat.POSTBACK_URL) checkPostbackTemplate(text);
    const target = checkTargetUrl(format === WebhookFormat.POSTBACK_URL ? templateSample(text) : text, allowPrivate);
    const host = bareHostname(target);
    if (!allowPrivate && !ipaddr.isValid(host)) {
      // A name that already resolves somewhere private is refused now. Names that do not
      // resolve yet are accepted: every connection is checked again, address by address.
      await resolveWithin(host, allowPrivate, CREATE_DNS_TIMEOUT_MS).catch((error: unknown) => {
        if (error instanceof TargetRefusedError) throw error;
      });
    }
  } catch (error) {
    if (error instanceof TargetRefusedError || error instanceof PostbackTemplateError) {
      throw new BadUserInputError(`url ${error.message}`, { field: "url", cause: error });
    }
    throw error;
  }
  return text;
}

function checkRateLimit(value: number | null | undefined): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (!Number.isInteger(value) || value < 1 || value > MAX_RATE_LIMIT_PER_SECOND) {
    throw new BadUserInputError(`rateLimitPerSecond must be an integer 1-${MAX_RATE_LIMIT_PER_SECOND}`, { field: "rateLimitPerSecond" });
  }
  return value;
}

/**
 * A higher limit lets one endpoint hold more worker slots, at every tenant's expense: above
 * the hub default it takes an admin key. Null returns the endpoint to the default.
 */
function checkMaxInFlight(ctx: RequestContext, value: number | null | undefined): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (!Number.isInteger(value) || value < 1 || value > MAX_IN_FLIGHT_PER_ENDPOINT) {
    throw new BadUserInputError(`maxInFlight must be an integer 1-${MAX_IN_FLIGHT_PER_ENDPOINT}`, { field: "maxInFlight" });
  }
  const hubDefault = ctx.hub.config.webhooks.maxInFlightPerEndpoint;
  if (value > hubDefault && !isAdmin(ctx.viewer)) {
    throw new ForbiddenError(`maxInFlight above the hub default of ${hubDefault} needs an admin key`);
  }
  return value;
}

function checkDescription(value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  if (value.length > 500) throw new BadUserInputError("description must be at most 500 characters", { field: "description" });
  return value;
}

/** Who will own a new endpoint: admins choose (or none); operators and affiliates own theirs. */
async function ownerFor(ctx: RequestContext, input: CreateEndpointInput): Promise<{ ownerOperatorId: string | null; ownerAffiliateId: string | null }> {
  const scope = scopeOf(ctx.viewer);
  const operatorId = input.ownerOperatorId ?? null;
  const affiliateId = input.ownerAffiliateId ?? null;
  if (scope.kind === "operator") {
    if ((operatorId && operatorId !== scope.operatorId) || affiliateId) throw new ForbiddenError("An operator key creates endpoints for its own operator only");
    return { ownerOperatorId: scope.operatorId, ownerAffiliateId: null };
  }
  if (scope.kind === "affiliate") {
    if ((affiliateId && affiliateId !== scope.affiliateId) || operatorId) throw new ForbiddenError("An affiliate key creates endpoints for its own affiliate only");
    return { ownerOperatorId: null, ownerAffiliateId: scope.affiliateId };
  }
  if (operatorId && affiliateId) throw new BadUserInputError("An endpoint has at most one owner: ownerOperatorId or ownerAffiliateId", { field: "ownerAffiliateId" });
  if (operatorId && !(await ctx.em.findOne(Operator, { id: operatorId }))) {
    throw new BadUserInputError(`ownerOperatorId ${operatorId} is not an operator`, { field: "ownerOperatorId" });
  }
  if (affiliateId && !(await ctx.em.findOne(Affiliate, { id: affiliateId }))) {
    throw new BadUserInputError(`ownerAffiliateId ${affiliateId} is not an affiliate`, { field: "ownerAffiliateId" });
  }
  return { ownerOperatorId: operatorId, ownerAffiliateId: affiliateId };
}

export async function createEndpoint(ctx: RequestContext, input: CreateEndpointInput): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const format = input.format ?? WebhookFormat.STANDARD_WEBHOOK;
  const allowPrivate = ctx.hub.config.webhooks.allowPrivateTargets;
  const owner = await ownerFor(ctx, input);
  const url = await checkEndpointUrl(input.url, format, allowPrivate);
  const eventTypes = checkEventTypes(ctx.hub.eventTypes, input.eventTypes ?? [], format);
  const secret = generateWebhookSecret();
  const enabled = input.enabled ?? true;
  const endpoint = ctx.em.create(WebhookEndpoint, {
    url,
    format,
    eventTypes,
    description: checkDescription(input.description) ?? null,
    rateLimitPerSecond: checkRateLimit(input.rateLimitPerSecond) ?? null,
    maxInFlight: checkMaxInFlight(ctx, input.maxInFlight) ?? null,
    enabled,
    disabledAt: enabled ? null : new Date(),
    disabledReason: enabled ? null : EndpointDisabledReason.MANUAL,
    secretSealed: ctx.hub.secrets.seal(secret),
    secretCreatedAt: new Date(),
    ...owner,
  });
  await ctx.em.persistAndFlush(endpoint);
  ctx.log.info({ endpointId: endpoint.id, format, ownerOperatorId: owner.ownerOperatorId, ownerAffiliateId: owner.ownerAffiliateId }, "webhook endpoint created");
  return { endpoint, secret };
}

export async function updateEndpoint(ctx: RequestContext, id: string, input: EndpointFields): Promise<WebhookEndpoint> {
  const endpoint = await findVisibleEndpoint(ctx, id);
  const format = input.format ?? endpoint.format;
  const allowPrivate = ctx.hub.config.webhooks.allowPrivateTargets;
  if (input.url !== undefined || input.format !== undefined) endpoint.url = await checkEndpointUrl(input.url ?? endpoint.url, format, allowPrivate);
  if (input.eventTypes !== undefined || input.format !== undefined) endpoint.eventTypes = checkEventTypes(ctx.hub.eventTypes, input.eventTypes ?? endpoint.eventTypes, format);
  endpoint.format = format;
  if (input.description !== undefined) endpoint.description = checkDescription(input.description);
  if (input.rateLimitPerSecond !== undefined) endpoint.rateLimitPerSecond = checkRateLimit(input.rateLimitPerSecond);
  if (input.maxInFlight !== undefined) endpoint.maxInFlight = checkMaxInFlight(ctx, input.maxInFlight);
  await ctx.em.flush();
  return endpoint;
}

export async function deleteEndpoint(ctx: RequestContext, id: string): Promise<void> {
  const endpoint = await findVisibleEndpoint(ctx, id);
  await ctx.em.transactional(async (em) => {
    for (const key of [deadKey(endpoint.id), disabledKey(endpoint.id), rotationKey(endpoint.id)]) await resolveAlert(em, ctx.log, key);
    // Deliveries and their attempt log go with it (foreign keys cascade).
    await em.nativeDelete(WebhookEndpoint, { id: endpoint.id });
  });
  ctx.log.info({ endpointId: id }, "webhook endpoint deleted");
}

/**
 * Re-enabling resumes the endpoint's pending deliveries at once (their retry times were
 * about a receiver that has presumably been fixed), each with a fresh job.
 */
export async function enableEndpoint(ctx: RequestContext, id: string): Promise<WebhookEndpoint> {
  const endpoint = await findVisibleEndpoint(ctx, id);
  if (endpoint.enabled) return endpoint;
  await ctx.em.transactional(async (em) => {
    await em.execute(
      `update webhook_endpoint set enabled = true, disabled_at = null, disabled_reason = null, failing_since = null, updated_at = now()
       where id = ?::uuid`,
      [endpoint.id],
    );
    await resumeDeliveries(em, endpoint.id);
  });
  await ctx.em.refresh(endpoint);
  ctx.log.info({ endpointId: id }, "webhook endpoint enabled");
  return endpoint;
}

export async function resumeDeliveries(em: EntityManager, endpointId: string): Promise<number> {
  const [row] = await em.execute<Array<{ jobs: string }>>(
    `with d as (
       update delivery set next_attempt_at = now(), rate_slot_at = null
       where endpoint_id = ?::uuid and state in ('pending', 'failed') and lease_token is null
       returning id
     )
     ${addDeliveryJobsSql("d")}`,
    [endpointId],
  );
  return Number(row?.jobs ?? 0);
}

export async function disableEndpoint(ctx: RequestContext, id: string): Promise<WebhookEndpoint> {
  const endpoint = await findVisibleEndpoint(ctx, id);
  if (!endpoint.enabled) return endpoint;
  endpoint.enabled = false;
  endpoint.disabledAt = new Date();
  endpoint.disabledReason = EndpointDisabledReason.MANUAL;
  await ctx.em.flush();
  ctx.log.info({ endpointId: id }, "webhook endpoint disabled");
  return endpoint;
}

/**
 * A new secret; the old one keeps signing (a second signature) for the grace period, so
 * receivers can switch without dropping a delivery. Grace 0: the old one stops at once.
 */
export async function rotateSecret(ctx: RequestContext, id: string, gracePeriodHours: number): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  if (!Number.isFinite(gracePeriodHours) || gracePeriodHours < 0 || gracePeriodHours > MAX_GRACE_PERIOD_HOURS) {
    throw new BadUserInputError(`gracePeriodHours must be 0-${MAX_GRACE_PERIOD_HOURS}`, { field: "gracePeriodHours" });
  }
  const endpoint = await findVisibleEndpoint(ctx, id);
  await ctx.em.populate(endpoint, ["secretSealed"]);
  const secret = generateWebhookSecret();
  const now = new Date();
  endpoint.previousSecretSealed = gracePeriodHours > 0 ? endpoint.secretSealed : null;
  endpoint.previousSecretExpiresAt = gracePeriodHours > 0 ? new Date(now.getTime() + gracePeriodHours * 3_600_000) : null;
  endpoint.secretSealed = ctx.hub.secrets.seal(secret);
  endpoint.secretCreatedAt = now;
  await ctx.em.transactional(async (em) => {
    await em.flush();
    await resolveAlert(em, ctx.log, rotationKey(endpoint.id));
  });
  ctx.log.info({ endpointId: id, gracePeriodHours }, "webhook secret rotated");
  return { endpoint, secret };
}

/** Sends a `webhook.test` event to this endpoint only, whatever its filter. */
export async function sendTestWebhook(ctx: RequestContext, id: string): Promise<Delivery> {
  const endpoint = await findVisibleEndpoint(ctx, id);
  if (!endpoint.enabled) throw new ConflictError(`Webhook endpoint ${id} is disabled; enable it first`, "ENDPOINT_DISABLED");
  const event = await ctx.em.transactional((em) =>
    publishEvent(em, {
      type: WEBHOOK_TEST,
      data: { endpointId: endpoint.id, message: "A test event from affiliate-hub: if you can read this, delivery works.", sentAt: new Date().toISOString() },
      operatorId: endpoint.ownerOperatorId ?? null,
      affiliateId: endpoint.ownerAffiliateId ?? null,
      onlyEndpointId: endpoint.id,
    }),
  );
  const delivery = await ctx.em.findOne(Delivery, { eventId: event.id, endpointId: endpoint.id });
  if (!delivery) throw new ConflictError(`Webhook endpoint ${id} was disabled meanwhile`, "ENDPOINT_DISABLED");
  return delivery;
}
