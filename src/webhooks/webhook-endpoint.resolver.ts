import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { AFTER_ARG, firstArg, type Page } from "../common/pagination";
import type { RequestContext } from "../context";
import { endpointStats } from "./endpoint-stats";
import type { WebhookEndpoint } from "./webhook-endpoint.entity";
import {
  createEndpoint,
  deleteEndpoint,
  disableEndpoint,
  enableEndpoint,
  ENDPOINT_LIST,
  findVisibleEndpoint,
  listEndpoints,
  rotateSecret,
  sendTestWebhook,
  updateEndpoint,
} from "./webhook-endpoint.service";
import { CreateWebhookEndpointInput, UpdateWebhookEndpointInput } from "./webhook.inputs";
import {
  CreateWebhookEndpointPayload,
  DeliveryType,
  RotateWebhookSecretPayload,
  WebhookEndpointConnection,
  WebhookEndpointStatsType,
  WebhookEndpointType,
} from "./webhook.types";

/** Endpoints: admins manage all; operator and affiliate keys only their own (others' are NOT_FOUND). */
@Resolver(() => WebhookEndpointType)
export class WebhookEndpointResolver {
  @Authorized()
  @Query(() => WebhookEndpointConnection, { description: "Admins: all endpoints; operator and affiliate keys: their own. Oldest first." })
  async webhookEndpoints(
    @Arg("first", () => Int, firstArg(ENDPOINT_LIST)) first: number | null,
    @Arg("after", () => String, AFTER_ARG) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Page<WebhookEndpoint>> {
    return listEndpoints(ctx, first, after);
  }

  @Authorized()
  @Query(() => WebhookEndpointType)
  async webhookEndpoint(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<WebhookEndpoint> {
    return findVisibleEndpoint(ctx, id);
  }

  @FieldResolver(() => WebhookEndpointStatsType)
  async stats(@Root() endpoint: WebhookEndpoint, @Ctx() ctx: RequestContext): Promise<WebhookEndpointStatsType> {
    return endpointStats(ctx.em, endpoint.id);
  }

  @Authorized()
  @Mutation(() => CreateWebhookEndpointPayload, { description: "The secret is returned this once." })
  async createWebhookEndpoint(@Arg("input", () => CreateWebhookEndpointInput) input: CreateWebhookEndpointInput, @Ctx() ctx: RequestContext) {
    return createEndpoint(ctx, {
      url: input.url,
      description: input.description ?? undefined,
      format: input.format ?? undefined,
      eventTypes: input.eventTypes ?? undefined,
      ownerOperatorId: input.ownerOperatorId ?? undefined,
      ownerAffiliateId: input.ownerAffiliateId ?? undefined,
      rateLimitPerSecond: input.rateLimitPerSecond ?? undefined,
      maxInFlight: input.maxInFlight ?? undefined,
      enabled: input.enabled ?? undefined,
    });
  }

  @Authorized()
  @Mutation(() => WebhookEndpointType)
  async updateWebhookEndpoint(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateWebhookEndpointInput) input: UpdateWebhookEndpointInput,
    @Ctx() ctx: RequestContext,
  ): Promise<WebhookEndpoint> {
    return updateEndpoint(ctx, id, {
      url: input.url ?? undefined,
      format: input.format ?? undefined,
      eventTypes: input.eventTypes ?? undefined,
      // null clears these (maxInFlight back to the hub default); absent leaves them.
      description: input.description,
      rateLimitPerSecond: input.rateLimitPerSecond,
      maxInFlight: input.maxInFlight,
    });
  }

  @Authorized()
  @Mutation(() => ID, { description: "Deletes the endpoint with its deliveries and attempt log; returns its id." })
  async deleteWebhookEndpoint(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<string> {
    await deleteEndpoint(ctx, id);
    return id;
  }

  @Authorized()
  @Mutation(() => WebhookEndpointType, { description: "Re-enables it and resumes its pending deliveries at once." })
  async enableWebhookEndpoint(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<WebhookEndpoint> {
    return enableEndpoint(ctx, id);
  }

  @Authorized()
  @Mutation(() => WebhookEndpointType, { description: "Stops sending; new events are not queued for it, pending ones wait." })
  async disableWebhookEndpoint(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<WebhookEndpoint> {
    return disableEndpoint(ctx, id);
  }

  @Authorized()
  @Mutation(() => RotateWebhookSecretPayload, { description: "A new secret; the previous one also signs for gracePeriodHours." })
  async rotateWebhookSecret(
    @Arg("endpointId", () => ID) endpointId: string,
    @Arg("gracePeriodHours", () => Int, { defaultValue: 24 }) gracePeriodHours: number,
    @Ctx() ctx: RequestContext,
  ) {
    return rotateSecret(ctx, endpointId, gracePeriodHours);
  }

  @Authorized()
  @Mutation(() => DeliveryType, { description: "Sends a webhook.test event to this endpoint only." })
  async sendTestWebhook(@Arg("endpointId", () => ID) endpointId: string, @Ctx() ctx: RequestContext) {
    return sendTestWebhook(ctx, endpointId);
  }
}
