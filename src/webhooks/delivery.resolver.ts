import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { AFTER_ARG, firstArg, type Page } from "../common/pagination";
import type { RequestContext } from "../context";
import { DeliveryAttempt } from "./delivery-attempt.entity";
import type { DeliveryReplayBatch } from "./delivery-replay-batch.entity";
import type { Delivery } from "./delivery.entity";
import {
  attemptsOf,
  DELIVERY_LIST,
  deliveriesOfEvent,
  findVisibleEvent,
  findVisibleReplayBatch,
  listDeliveries,
  MAX_LISTED_ATTEMPTS,
  MAX_LISTED_EVENT_DELIVERIES,
  replayDelivery,
  replayEvent,
  replayFailedDeliveries,
} from "./delivery.service";
import { scopeOf } from "../common/tenant-scope";
import { queueStats, type QueueStats } from "./queue-stats";
import { DeliveryFilterInput } from "./webhook.inputs";
import {
  DeliveryAttemptType,
  DeliveryConnection,
  DeliveryReplayBatchType,
  DeliveryType,
  OutboundEventType,
  QueueStatsType,
} from "./webhook.types";
import { type Event } from "../outbox/event.entity";

@Resolver(() => DeliveryType)
export class DeliveryResolver {
  @Authorized()
  @Query(() => DeliveryConnection, { description: "Newest first. Operator and affiliate keys see deliveries to their own endpoints." })
  async deliveries(
    @Arg("filter", () => DeliveryFilterInput, { nullable: true }) filter: DeliveryFilterInput | null,
    @Arg("first", () => Int, firstArg(DELIVERY_LIST)) first: number | null,
    @Arg("after", () => String, AFTER_ARG) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Page<Delivery>> {
    return listDeliveries(ctx, filter ?? {}, first, after);
  }

  @FieldResolver(() => [DeliveryAttemptType], {
    description: `The attempt log, oldest first, every series: the latest ${MAX_LISTED_ATTEMPTS} attempts (only a delivery replayed many times has more).`,
  })
  async attempts(@Root() delivery: Delivery, @Ctx() ctx: RequestContext): Promise<DeliveryAttempt[]> {
    return attemptsOf(ctx.em, delivery.id);
  }

  @FieldResolver(() => OutboundEventType)
  async event(@Root() delivery: Delivery, @Ctx() ctx: RequestContext): Promise<Event> {
    return findVisibleEvent(ctx, delivery.eventId, { kind: "all" });
  }

  @FieldResolver(() => Boolean, { description: "A worker holds it and is attempting it now." })
  inFlight(@Root() delivery: Delivery): boolean {
    return Boolean(delivery.leaseToken && delivery.leaseExpiresAt && delivery.leaseExpiresAt > new Date());
  }

  @Authorized()
  @Query(() => QueueStatsType, { description: "The delivery queue; operator and affiliate keys get their own endpoints' share." })
  async queueStats(@Ctx() ctx: RequestContext): Promise<QueueStats> {
    const scope = scopeOf(ctx.viewer);
    return queueStats(ctx.em, scope.kind === "operator" ? { operatorId: scope.operatorId } : scope.kind === "affiliate" ? { affiliateId: scope.affiliateId } : {});
  }

  @Authorized()
  @Mutation(() => DeliveryType, { description: "A fresh attempt series for this delivery, at once, with the same webhook-id." })
  async replayDelivery(@Arg("deliveryId", () => ID) deliveryId: string, @Ctx() ctx: RequestContext): Promise<Delivery> {
    return replayDelivery(ctx, deliveryId);
  }

  @Authorized()
  @Mutation(() => [DeliveryType], { description: "Delivers the event again to every endpoint that matches it now." })
  async replayEvent(@Arg("eventId", () => ID) eventId: string, @Ctx() ctx: RequestContext): Promise<Delivery[]> {
    return replayEvent(ctx, eventId);
  }

  @Authorized()
  @Mutation(() => DeliveryReplayBatchType, {
    description: "Replays the endpoint's failed and dead deliveries created in [since, until) (at most 14 days, 10 000 deliveries) in the background; follow the returned batch.",
  })
  async replayFailedDeliveries(
    @Arg("endpointId", () => ID) endpointId: string,
    @Arg("since", () => Date) since: Date,
    @Arg("until", () => Date, { nullable: true }) until: Date | null,
    @Ctx() ctx: RequestContext,
  ): Promise<DeliveryReplayBatch> {
    return replayFailedDeliveries(ctx, endpointId, since, until);
  }

  @Authorized()
  @Query(() => DeliveryReplayBatchType)
  async deliveryReplayBatch(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<DeliveryReplayBatch> {
    return findVisibleReplayBatch(ctx, id);
  }
}

@Resolver(() => OutboundEventType)
export class OutboundEventResolver {
  @Authorized()
  @Query(() => OutboundEventType, { description: "An outbound event; operators and affiliates see the events about them." })
  async event(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Event> {
    return findVisibleEvent(ctx, id);
  }

  @FieldResolver(() => [DeliveryType], {
    description: `Its deliveries you may see, oldest first: at most ${MAX_LISTED_EVENT_DELIVERIES}; \`deliveries(filter: { eventId })\` pages through any number.`,
  })
  async deliveries(@Root() event: Event, @Ctx() ctx: RequestContext): Promise<Delivery[]> {
    return deliveriesOfEvent(ctx, event.id);
  }
}
