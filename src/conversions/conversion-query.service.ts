import type { FilterQuery } from "@mikro-orm/core";
import { BadUserInputError, ForbiddenError, NotFoundError } from "../common/errors";
import { isId } from "../common/ids";
import { findPage, newestFirst, type Page } from "../common/pagination";
import type { RequestContext } from "../context";
import { Operator } from "../tenants/operator.entity";
import { parseConversionParameters, type KNOWN_PARAMETERS } from "./conversion-input";
import { ConversionSource, type ConversionStatus } from "./conversion-status";
import { Conversion } from "./conversion.entity";
import { ConversionStatusChange } from "./conversion-status-change.entity";
import { recordConversion, type RecordedConversion } from "./conversion.service";
import { ApiKeyRole } from "../common/viewer";
import { keyViewer, scopedFilter, scopeColumns, scopeOf } from "../common/tenant-scope";

export interface ConversionFilterValues {
  operatorId?: string | null;
  affiliateId?: string | null;
  event?: string | null;
  status?: ConversionStatus | null;
  attributed?: boolean | null;
  from?: Date | null;
  to?: Date | null;
}

function ids(filter: ConversionFilterValues): void {
  for (const field of ["operatorId", "affiliateId"] as const) {
    const value = filter[field];
    if (value !== null && value !== undefined && !isId(value)) throw new BadUserInputError(`${field} must be an id`, { field });
  }
}

export const CONVERSION_LIST = newestFirst("conversions");

/** Newest first, keyset-paginated; an operator key sees its operator's, an affiliate key its attributed ones. */
export async function listConversions(ctx: RequestContext, filter: ConversionFilterValues, first?: number | null, after?: string | null): Promise<Page<Conversion>> {
  ids(filter);
  const scope = scopedFilter(ctx.viewer, filter);
  const conditions: Array<FilterQuery<Conversion>> = [];
  if (scope.operatorId) conditions.push({ operatorId: scope.operatorId });
  if (scope.affiliateId) conditions.push({ affiliateId: scope.affiliateId });
  if (filter.event) conditions.push({ event: filter.event });
  if (filter.status) conditions.push({ status: filter.status });
  if (filter.attributed === true) conditions.push({ affiliateId: { $ne: null } });
  if (filter.attributed === false) conditions.push({ affiliateId: null });
  if (filter.from) conditions.push({ occurredAt: { $gte: filter.from } });
  if (filter.to) conditions.push({ occurredAt: { $lt: filter.to } });
  return findPage(ctx.em, Conversion, { $and: conditions }, CONVERSION_LIST, { first, after });
}

/** One conversion within the viewer's tenant; another tenant's is NOT_FOUND (its existence is not revealed). */
export async function findConversion(ctx: RequestContext, id: string): Promise<Conversion> {
  const scope = scopeColumns(scopeOf(ctx.viewer));
  if (!isId(id)) throw new NotFoundError("Conversion", id);
  const conversion = await ctx.em.findOne(Conversion, { id, ...(scope.operatorId ? { operatorId: scope.operatorId } : {}), ...(scope.affiliateId ? { affiliateId: scope.affiliateId } : {}) });
  if (!conversion) throw new NotFoundError("Conversion", id);
  return conversion;
}

export async function statusHistory(ctx: RequestContext, conversionId: string): Promise<ConversionStatusChange[]> {
  return ctx.em.find(ConversionStatusChange, { conversionId }, { orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
}

export interface GraphqlConversion {
  operatorId?: string | null;
  clickId?: string | null;
  customerId?: string | null;
  event: string;
  eventId?: string | null;
  amount?: string | null;
  currency?: string | null;
  status?: ConversionStatus | null;
  occurredAt?: Date | null;
  sub1?: string | null;
  sub2?: string | null;
  sub3?: string | null;
  sub4?: string | null;
  sub5?: string | null;
}

const CAMEL: Record<(typeof KNOWN_PARAMETERS)[number], string> = {
  click_id: "clickId", customer_id: "customerId", event: "event", event_id: "eventId", amount: "amount", currency: "currency",
  status: "status", occurred_at: "occurredAt", sub1: "sub1", sub2: "sub2", sub3: "sub3", sub4: "sub4", sub5: "sub5",
};

/** recordConversion over GraphQL: the postback's rules, through the same service. */
export async function recordConversionFromGraphql(ctx: RequestContext, input: GraphqlConversion): Promise<{ recorded: RecordedConversion; conversion: Conversion }> {
  const viewer = keyViewer(ctx.viewer);
  let operatorId: string;
  if (viewer.role === ApiKeyRole.OPERATOR) {
    if (input.operatorId && input.operatorId !== viewer.operatorId) throw new ForbiddenError("An operator key records conversions for its own operator only");
    operatorId = viewer.operatorId!;
  } else {
    if (!input.operatorId) throw new BadUserInputError("operatorId is required for admin keys", { field: "operatorId" });
    if (!isId(input.operatorId) || !(await ctx.em.count(Operator, { id: input.operatorId }))) throw new NotFoundError("Operator", input.operatorId);
    operatorId = input.operatorId;
  }
  const now = new Date();
  const parameters = {
    click_id: input.clickId,
    customer_id: input.customerId,
    event: input.event,
    event_id: input.eventId,
    amount: input.amount,
    currency: input.currency,
    status: input.status,
    occurred_at: input.occurredAt?.toISOString() ?? null,
    sub1: input.sub1,
    sub2: input.sub2,
    sub3: input.sub3,
    sub4: input.sub4,
    sub5: input.sub5,
  };
  const parsed = parseConversionParameters(parameters, now, (name) => CAMEL[name]);
  const recorded = await recordConversion(ctx, {
    operatorId,
    input: parsed,
    source: ConversionSource.GRAPHQL,
    apiKeyId: viewer.apiKeyId,
    rawRequest: { source: "graphql", requestId: ctx.requestId, input: { ...input, occurredAt: input.occurredAt?.toISOString() ?? null } },
    callLog: ctx.callLog,
  });
  const conversion = await ctx.em.findOneOrFail(Conversion, { id: recorded.conversionId }, { refresh: true });
  return { recorded, conversion };
}
