import { Authorized, Ctx, Resolver, Root, Subscription } from "type-graphql";
import { NotFoundError } from "../common/errors";
import type { RequestContext } from "../context";
import { tenantEvents } from "../live/subscriptions";
import { Alert } from "./alert.entity";
import { AlertType } from "./alert.types";
import { type AlertChangedMessage } from "./alert-topics";

@Resolver()
export class AlertLiveResolver {
  @Authorized()
  @Subscription(() => AlertType, {
    description:
      "Alerts as they are raised, updated (their condition grew) and resolved: `active` and `resolvedAt` tell which. " +
      "Admins: all; operator and affiliate keys: alerts about their own endpoints (hub-wide alerts such as queue depth are admin-only).",
    subscribe: ({ context }) => tenantEvents(context as RequestContext, "alert.raised"),
  })
  async alertRaised(@Root() message: AlertChangedMessage, @Ctx() ctx: RequestContext): Promise<Alert> {
    // A fresh EntityManager per event: a subscription lives long and its em would only grow.
    const alert = await ctx.hub.orm.em.fork().findOne(Alert, { id: message.alertId });
    if (!alert) throw new NotFoundError("Alert", message.alertId);
    return alert;
  }
}
