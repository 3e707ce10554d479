import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { AFTER_ARG, firstArg, mapNodes } from "../common/pagination";
import type { RequestContext } from "../context";
import { CreateCampaignInput } from "./campaign.inputs";
import { CAMPAIGN_LIST, createCampaign, listCampaigns } from "./campaign.service";
import { CampaignConnection, CampaignType } from "./campaign.types";

@Resolver()
export class CampaignResolver {
  @Authorized("ADMIN", "OPERATOR")
  @Mutation(() => CampaignType, { description: "Admins, or an operator key for its own operator." })
  async createCampaign(@Ctx() ctx: RequestContext, @Arg("input", () => CreateCampaignInput) input: CreateCampaignInput): Promise<CampaignType> {
    return CampaignType.from(await createCampaign(ctx, input));
  }

  @Authorized("ADMIN", "OPERATOR")
  @Query(() => CampaignConnection, { description: "Admins: all (or one operator's); an operator key: its own. Oldest first." })
  async campaigns(
    @Ctx() ctx: RequestContext,
    @Arg("operatorId", () => ID, { nullable: true }) operatorId: string | null,
    @Arg("first", () => Int, firstArg(CAMPAIGN_LIST)) first: number | null,
    @Arg("after", () => String, AFTER_ARG) after: string | null,
  ): Promise<CampaignConnection> {
    return mapNodes(await listCampaigns(ctx, operatorId, first, after), CampaignType.from);
  }
}
