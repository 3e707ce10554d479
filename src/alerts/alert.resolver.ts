import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { AFTER_ARG, firstArg, type Page } from "../common/pagination";
import type { RequestContext } from "../context";
import type { Alert } from "./alert.entity";
import { acknowledgeAlert, ALERT_LIST, listAlerts } from "./alert.service";
import { AlertConnection, AlertType } from "./alert.types";

@Resolver(() => AlertType)
export class AlertResolver {
  @Authorized()
  @Query(() => AlertConnection, { description: "Newest first. active: true for unresolved, false for resolved, absent for both." })
  async alerts(
    @Arg("active", () => Boolean, { nullable: true }) active: boolean | null,
    @Arg("first", () => Int, firstArg(ALERT_LIST)) first: number | null,
    @Arg("after", () => String, AFTER_ARG) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Page<Alert>> {
    return listAlerts(ctx, { active }, first, after);
  }

  @FieldResolver(() => Boolean)
  active(@Root() alert: Alert): boolean {
    return !alert.resolvedAt;
  }

  @Authorized()
  @Mutation(() => AlertType, { description: "Marks it seen; it stays active until its condition clears." })
  async acknowledgeAlert(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Alert> {
    return acknowledgeAlert(ctx, id);
  }
}
