import { NotFoundError } from "../common/errors";
import { isId } from "../common/ids";
import { findPage, oldestFirstById, type Page } from "../common/pagination";
import type { RequestContext } from "../context";
import { validateLandingUrl } from "../clicks/landing-url";
import { Campaign } from "./campaign.entity";
import { cleanName } from "./names";
import { Operator } from "./operator.entity";
import { assertActsForOperator, scopedFilter } from "../common/tenant-scope";

export async function createCampaign(ctx: RequestContext, input: { operatorId: string; name: string; landingUrl: string }): Promise<Campaign> {
  assertActsForOperator(ctx.viewer, input.operatorId);
  const name = cleanName(input.name);
  const landingUrl = validateLandingUrl(input.landingUrl);
  if (!isId(input.operatorId) || !(await ctx.em.count(Operator, { id: input.operatorId }))) {
    throw new NotFoundError("Operator", input.operatorId);
  }
  const campaign = ctx.em.create(Campaign, { operatorId: input.operatorId, name, landingUrl });
  await ctx.em.persistAndFlush(campaign);
  return campaign;
}

export const CAMPAIGN_LIST = oldestFirstById("campaigns");

/** Admins see every campaign (optionally one operator's); an operator key its own operator's. */
export async function listCampaigns(ctx: RequestContext, operatorId: string | null | undefined, first?: number | null, after?: string | null): Promise<Page<Campaign>> {
  const scope = scopedFilter(ctx.viewer, { operatorId });
  return findPage(ctx.em, Campaign, scope.operatorId ? { operatorId: scope.operatorId } : {}, CAMPAIGN_LIST, { first, after });
}
