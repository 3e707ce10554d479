import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import type { RequestContext } from "../context";
import { CreateAffiliateInput } from "./affiliate.inputs";
import { createAffiliate, listAffiliates } from "./affiliate.service";
import { AffiliateType } from "./affiliate.types";

@Resolver()
export class AffiliateResolver {
  @Authorized("ADMIN")
  @Mutation(() => AffiliateType, { description: "Admins." })
  async createAffiliate(@Ctx() ctx: RequestContext, @Arg("input", () => CreateAffiliateInput) input: CreateAffiliateInput): Promise<AffiliateType> {
    return AffiliateType.from(await createAffiliate(ctx, input));
  }

  // Operators have no relation to affiliates yet (commission plans will bring one), so they see none.
  @Authorized("ADMIN", "AFFILIATE")
  @Query(() => [AffiliateType], { description: "Admins: all affiliates; an affiliate key: itself. Oldest first." })
  async affiliates(
    @Ctx() ctx: RequestContext,
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => ID, { nullable: true, description: "The last id of the previous page." }) after: string | null,
  ): Promise<AffiliateType[]> {
    return (await listAffiliates(ctx, first, after)).map(AffiliateType.from);
  }
}
