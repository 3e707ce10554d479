import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import type { RequestContext } from "../context";
import { CreateCampaignInput } from "./campaign.inputs";
import { createCampaign, listCampaigns } from "./campaign.service";
import { CampaignType } from "./campaign.types";

@Resolver()
export class CampaignResolver {
  @Authorized("ADMIN", "OPERATOR")
  @Mutation(() => CampaignType, { description: "Admins, or an operator key for its own operator." })
  async createCampaign(@Ctx() ctx: RequestContext, @Arg("input", () => CreateCampaignInput) input: CreateCampaignInput): Promise<CampaignType> {
    return CampaignType.from(await createCampaign(ctx, input));
  }

  @Authorized("ADMIN", "OPERATOR")
  @Query(() => [CampaignType], { description: "Admins: all (or one operator's); an operator key: its own. Oldest first." })
  async campaigns(
    @Ctx() ctx: RequestContext,
    @Arg("operatorId", () => ID, { nullable: true }) operatorId: string | null,
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => ID, { nullable: true, description: "The last id of the previous page." }) after: string | null,
  ): Promise<CampaignType[]> {
    return (await listCampaigns(ctx, operatorId, first, after)).map(CampaignType.from);
  }
}
