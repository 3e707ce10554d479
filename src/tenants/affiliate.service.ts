import { BadUserInputError } from "../common/errors";
import { findPage, oldestFirstById, type Page } from "../common/pagination";
import type { RequestContext } from "../context";
import { Affiliate } from "./affiliate.entity";
import { cleanName } from "./names";
import { scopeColumns, scopeOf } from "../common/tenant-scope";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_EMAIL_LENGTH = 320;

export async function createAffiliate(ctx: RequestContext, input: { name: string; email?: string | null }): Promise<Affiliate> {
  const email = input.email?.trim() || null;
  if (email !== null && (email.length > MAX_EMAIL_LENGTH || !EMAIL.test(email))) {
    throw new BadUserInputError("email must be an email address", { field: "email" });
  }
  const affiliate = ctx.em.create(Affiliate, { name: cleanName(input.name), email });
  await ctx.em.persistAndFlush(affiliate);
  return affiliate;
}

export const AFFILIATE_LIST = oldestFirstById("affiliates");

/** Admins see every affiliate; an affiliate key itself. */
export async function listAffiliates(ctx: RequestContext, first?: number | null, after?: string | null): Promise<Page<Affiliate>> {
  const scope = scopeColumns(scopeOf(ctx.viewer));
  return findPage(ctx.em, Affiliate, scope.affiliateId ? { id: scope.affiliateId } : {}, AFFILIATE_LIST, { first, after });
}
