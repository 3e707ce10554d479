import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import type { RequestContext } from "../context";
import type { Alert } from "./alert.entity";
import { acknowledgeAlert, listAlerts } from "./alert.service";
import { AlertType } from "./alert.types";

const MAX_ALERTS = 500;

@Resolver(() => AlertType)
export class AlertResolver {
  @Authorized()
  @Query(() => [AlertType], { description: "Newest first. active: true for unresolved, false for resolved, absent for both." })
  async alerts(
    @Arg("active", () => Boolean, { nullable: true }) active: boolean | null,
    @Arg("first", () => Int, { defaultValue: 100 }) first: number,
    @Ctx() ctx: RequestContext,
  ): Promise<Alert[]> {
    return listAlerts(ctx, { active, first: Math.min(Math.max(1, first), MAX_ALERTS) });
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
