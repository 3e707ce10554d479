import { BadUserInputError, NotFoundError } from "../common/errors";
import { isId, newId } from "../common/ids";
import type { RequestContext } from "../context";
import { namedSql, sqlRows } from "../db/sql";
import { fillLandingUrl } from "./landing-url";

export const MAX_SUB_LENGTH = 255;
const MAX_USER_AGENT_LENGTH = 512;

export interface ClickRequest {
  campaignId: string;
  affiliateId: string | undefined;
  subs: Array<string | undefined>;
  clientIp: string;
  userAgent: string | undefined;
}

/* One statement: the click is stored only if both the campaign and the affiliate exist. */
const RECORD_CLICK = namedSql(`
  with target as (
    select c.id as campaign_id, c.operator_id, c.landing_url, a.id as affiliate_id
      from campaign c join affiliate a on a.id = :affiliate_id
     where c.id = :campaign_id
  ),
  inserted as (
    insert into click (id, created_at, click_id, operator_id, campaign_id, affiliate_id, sub1, sub2, sub3, sub4, sub5, ip, user_agent)
    select :id::uuid, :now::timestamptz, :id::text, operator_id, campaign_id, affiliate_id,
           :sub1::text, :sub2::text, :sub3::text, :sub4::text, :sub5::text, :ip::text, :user_agent::text
      from target
    returning id
  )
  select t.landing_url, i.id from target t join inserted i on true`);

const WHICH_IS_MISSING = namedSql(`
  select exists (select 1 from campaign where id = :campaign_id) as campaign,
         exists (select 1 from affiliate where id = :affiliate_id) as affiliate`);

function sub(value: string | undefined, index: number): string | null {
  if (value === undefined || value === "") return null;
  if (value.length > MAX_SUB_LENGTH || value.includes("\u0000")) {
    throw new BadUserInputError(`sub${index + 1} must be at most ${MAX_SUB_LENGTH} characters`, { field: `sub${index + 1}` });
  }
  return value;
}

/**
 * Records a click and returns where to send the visitor. Unknown campaign or affiliate:
 * NOT_FOUND and nothing stored. The click id is fresh and unguessable (UUIDv7 random bits).
 */
export async function recordClick(ctx: RequestContext, click: ClickRequest): Promise<{ clickId: string; location: string }> {
  if (!isId(click.campaignId)) throw new NotFoundError("Campaign", click.campaignId.slice(0, 64));
  if (click.affiliateId === undefined || click.affiliateId === "") {
    throw new BadUserInputError("affiliate_id is required", { field: "affiliate_id" });
  }
  if (!isId(click.affiliateId)) throw new NotFoundError("Affiliate", click.affiliateId.slice(0, 64));
  const subs = [0, 1, 2, 3, 4].map((index) => sub(click.subs[index], index));
  const id = newId();
  const [row] = await sqlRows<{ landing_url: string; id: string }>(ctx.em, RECORD_CLICK, {
    id,
    now: new Date(),
    campaign_id: click.campaignId,
    affiliate_id: click.affiliateId,
    sub1: subs[0]!,
    sub2: subs[1]!,
    sub3: subs[2]!,
    sub4: subs[3]!,
    sub5: subs[4]!,
    ip: click.clientIp.slice(0, 64) || null,
    user_agent: click.userAgent?.slice(0, MAX_USER_AGENT_LENGTH) ?? null,
  });
  if (!row) {
    const [found] = await sqlRows<{ campaign: boolean; affiliate: boolean }>(ctx.em, WHICH_IS_MISSING, {
      campaign_id: click.campaignId,
      affiliate_id: click.affiliateId,
    });
    if (!found?.campaign) throw new NotFoundError("Campaign", click.campaignId);
    throw new NotFoundError("Affiliate", click.affiliateId);
  }
  return { clickId: id, location: fillLandingUrl(row.landing_url, id) };
}
