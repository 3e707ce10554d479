import { Arg, Authorized, Ctx, Float, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { AFTER_ARG, firstArg, mapNodes } from "../common/pagination";
import type { RequestContext } from "../context";
import { CreateOperatorInput } from "./operator.inputs";
import { createOperator, DEFAULT_GRACE_PERIOD_HOURS, listOperators, OPERATOR_LIST, rotatePostbackSecret } from "./operator.service";
import { OperatorConnection, OperatorType, OperatorWithSecret } from "./operator.types";

@Resolver()
export class OperatorResolver {
  @Authorized("ADMIN")
  @Mutation(() => OperatorWithSecret, { description: "Admins. Returns the postback signing secret once." })
  async createOperator(@Ctx() ctx: RequestContext, @Arg("input", () => CreateOperatorInput) input: CreateOperatorInput): Promise<OperatorWithSecret> {
    const { operator, postbackSecret } = await createOperator(ctx, input);
    return Object.assign(new OperatorWithSecret(), { operator: OperatorType.from(operator), postbackSecret });
  }

  // Admins only: an operator key that could rotate would also learn the new secret, and the
  // signature is meant as a second factor beside the key.
  @Authorized("ADMIN")
  @Mutation(() => OperatorWithSecret, {
    description: "Admins. A new postback secret (returned once); the old one stays valid for gracePeriodHours.",
  })
  async rotatePostbackSecret(
    @Ctx() ctx: RequestContext,
    @Arg("operatorId", () => ID) operatorId: string,
    @Arg("gracePeriodHours", () => Float, { defaultValue: DEFAULT_GRACE_PERIOD_HOURS }) gracePeriodHours: number,
  ): Promise<OperatorWithSecret> {
    const { operator, postbackSecret } = await rotatePostbackSecret(ctx, operatorId, gracePeriodHours);
    return Object.assign(new OperatorWithSecret(), { operator: OperatorType.from(operator), postbackSecret });
  }

  @Authorized("ADMIN", "OPERATOR")
  @Query(() => OperatorConnection, { description: "Admins: all operators; an operator key: its own. Oldest first." })
  async operators(
    @Ctx() ctx: RequestContext,
    @Arg("first", () => Int, firstArg(OPERATOR_LIST)) first: number | null,
    @Arg("after", () => String, AFTER_ARG) after: string | null,
  ): Promise<OperatorConnection> {
    return mapNodes(await listOperators(ctx, first, after), OperatorType.from);
  }
}
