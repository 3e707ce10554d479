import { Arg, Authorized, Ctx, ID, Resolver, Root, Subscription } from "type-graphql";
import type { RequestContext } from "../context";
import { conversionEvents, loadConversionChange } from "./conversion-live";
import { ConversionLiveEventType } from "./conversion-live.types";
import { type ConversionRecordedMessage } from "./conversion-topics";

@Resolver()
export class ConversionLiveResolver {
  @Authorized()
  @Subscription(() => ConversionLiveEventType, {
    description:
      "New conversions and status changes as they commit. Admins: all (optionally narrowed); operator keys: their " +
      "operator's; affiliate keys: those attributed to them. Naming another tenant is FORBIDDEN.",
    subscribe: ({ context, args }) =>
      conversionEvents(context as RequestContext, {
        operatorId: (args.operatorId as string | null | undefined) ?? null,
        affiliateId: (args.affiliateId as string | null | undefined) ?? null,
      }),
  })
  async conversionRecorded(
    @Root() message: ConversionRecordedMessage,
    @Ctx() ctx: RequestContext,
    @Arg("operatorId", () => ID, { nullable: true }) _operatorId: string | null,
    @Arg("affiliateId", () => ID, { nullable: true }) _affiliateId: string | null,
  ): Promise<ConversionLiveEventType> {
    return loadConversionChange(ctx, message);
  }
}
