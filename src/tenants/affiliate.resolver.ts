import { Arg, Authorized, Ctx, Int, Mutation, Query, Resolver } from "type-graphql";
import { AFTER_ARG, firstArg, mapNodes } from "../common/pagination";
import type { RequestContext } from "../context";
import { CreateAffiliateInput } from "./affiliate.inputs";
import { AFFILIATE_LIST, createAffiliate, listAffiliates } from "./affiliate.service";
import { AffiliateConnection, AffiliateType } from "./affiliate.types";

@Resolver()
export class AffiliateResolver {
  @Authorized("ADMIN")
  @Mutation(() => AffiliateType, { description: "Admins." })
  async createAffiliate(@Ctx() ctx: RequestContext, @Arg("input", () => CreateAffiliateInput) input: CreateAffiliateInput): Promise<AffiliateType> {
    return AffiliateType.from(await createAffiliate(ctx, input));
  }

  // Operators have no relation to affiliates yet (commission plans will bring one), so they see none.
  @Authorized("ADMIN", "AFFILIATE")
  @Query(() => AffiliateConnection, { description: "Admins: all affiliates; an affiliate key: itself. Oldest first." })
  async affiliates(
    @Ctx() ctx: RequestContext,
    @Arg("first", () => Int, firstArg(AFFILIATE_LIST)) first: number | null,
    @Arg("after", () => String, AFTER_ARG) after: string | null,
  ): Promise<AffiliateConnection> {
    return mapNodes(await listAffiliates(ctx, first, after), AffiliateType.from);
  }
}
