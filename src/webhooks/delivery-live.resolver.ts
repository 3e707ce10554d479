import { Arg, Authorized, Ctx, ID, Resolver, Root, Subscription } from "type-graphql";
import type { RequestContext } from "../context";
import type { DeliveryAttempt } from "./delivery-attempt.entity";
import { deliveryAttemptEvents, loadAnnouncedAttempt, queueDepthFeed } from "./delivery-live";
import type { QueueStats } from "./queue-stats";
import { DeliveryAttemptType, QueueStatsType } from "./webhook.types";
import { type DeliveryAttemptedMessage } from "./webhook-topics";

@Resolver()
export class DeliveryLiveResolver {
  @Authorized()
  @Subscription(() => QueueStatsType, {
    description:
      "The delivery queue (the queueStats shape) on subscribe, then whenever its counts change (at most once per " +
      "QUEUE_DEPTH_PUSH_INTERVAL_MS), and again after the server's database listener reconnects. Operator and " +
      "affiliate keys get their own endpoints' share. sampledAt and oldestPendingAgeSeconds travel with each push but do not cause one.",
    subscribe: ({ context }) => queueDepthFeed(context as RequestContext),
  })
  queueDepthChanged(@Root() stats: QueueStats): QueueStats {
    return stats;
  }

  @Authorized()
  @Subscription(() => DeliveryAttemptType, {
    description:
      "Every delivery attempt as it is logged (including attempts lost by a crashed worker). Operator and affiliate " +
      "keys see attempts on their own endpoints; naming another's endpoint is FORBIDDEN.",
    subscribe: ({ context, args }) => deliveryAttemptEvents(context as RequestContext, (args.endpointId as string | null | undefined) ?? null),
  })
  async deliveryAttempted(
    @Root() message: DeliveryAttemptedMessage,
    @Ctx() ctx: RequestContext,
    @Arg("endpointId", () => ID, { nullable: true }) _endpointId: string | null,
  ): Promise<DeliveryAttempt> {
    return loadAnnouncedAttempt(ctx, message);
  }
}
