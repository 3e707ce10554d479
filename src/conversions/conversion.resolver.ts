import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { AFTER_ARG, firstArg, mapNodes } from "../common/pagination";
import type { RequestContext } from "../context";
import { CONVERSION_LIST, findConversion, listConversions, recordConversionFromGraphql, statusHistory } from "./conversion-query.service";
import { ConversionFilter, RecordConversionInput } from "./conversion.inputs";
import { RequiresOperatorSignature } from "./operator-signature.guard";
import { ConversionConnection, ConversionStatusChangeType, ConversionType, RecordConversionPayload } from "./conversion.types";

@Resolver(() => ConversionType)
export class ConversionResolver {
  @Authorized("ADMIN", "OPERATOR")
  @RequiresOperatorSignature()
  @Mutation(() => RecordConversionPayload, {
    description:
      "The postback over GraphQL: same validation, identity and status rules. Operator keys (own operator) and admins (name the operator). " +
      "An operator key whose operator requires signed postbacks must sign the HTTP POST body like a postback (X-Hub-Timestamp, X-Hub-Signature); " +
      "over graphql-ws such keys are refused with MISSING_SIGNATURE.",
  })
  async recordConversion(@Ctx() ctx: RequestContext, @Arg("input", () => RecordConversionInput) input: RecordConversionInput): Promise<RecordConversionPayload> {
    const { recorded, conversion } = await recordConversionFromGraphql(ctx, input);
    return Object.assign(new RecordConversionPayload(), { conversion: ConversionType.from(conversion), outcome: recorded.outcome });
  }

  @Authorized()
  @Query(() => ConversionConnection, { description: "Admins: all; operator keys: their operator's; affiliate keys: those attributed to them. Newest first." })
  async conversions(
    @Ctx() ctx: RequestContext,
    @Arg("filter", () => ConversionFilter, { nullable: true }) filter: ConversionFilter | null,
    @Arg("first", () => Int, firstArg(CONVERSION_LIST)) first: number | null,
    @Arg("after", () => String, AFTER_ARG) after: string | null,
  ): Promise<ConversionConnection> {
    return mapNodes(await listConversions(ctx, filter ?? {}, first, after), ConversionType.from);
  }

  @Authorized()
  @Query(() => ConversionType, { description: "One conversion of the caller's tenant, with its status history and raw request." })
  async conversion(@Ctx() ctx: RequestContext, @Arg("id", () => ID) id: string): Promise<ConversionType> {
    return ConversionType.from(await findConversion(ctx, id));
  }

  @FieldResolver(() => [ConversionStatusChangeType], { description: "Oldest first; the first entry is the recording. At most 3 entries: the status rules allow two changes (pending → approved → reversed)." })
  async statusHistory(@Root() conversion: ConversionType, @Ctx() ctx: RequestContext): Promise<ConversionStatusChangeType[]> {
    return (await statusHistory(ctx, conversion.id)).map((change) => ConversionStatusChangeType.from(change, conversion.operatorId));
  }
}
