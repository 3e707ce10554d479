import { Arg, Authorized, Ctx, Mutation, Resolver, Root, Subscription } from "type-graphql";
import type { RequestContext } from "../context";
import { liveProbeEchoes, sendLiveProbe, toLiveProbeEcho } from "./live-probe.service";
import type { LiveProbeMessage } from "./topics";
import { LiveProbe, LiveProbeEcho, LiveProbeRoute } from "./live-probe.types";

@Resolver()
export class LiveProbeResolver {
  @Authorized()
  @Mutation(() => LiveProbe, {
    description: "Sends a probe through the live path; it arrives on liveProbes for every subscriber allowed to see it. Any valid key.",
  })
  async sendLiveProbe(
    @Ctx() ctx: RequestContext,
    @Arg("route", () => LiveProbeRoute, { defaultValue: LiveProbeRoute.WORKER }) route: LiveProbeRoute,
  ): Promise<LiveProbe> {
    return sendLiveProbe(ctx, route);
  }

  @Authorized()
  @Subscription(() => LiveProbeEcho, {
    description: "Probes as they arrive: yours (tenant keys) or all (admin keys).",
    subscribe: ({ context }) => liveProbeEchoes(context as RequestContext),
  })
  liveProbes(@Root() message: LiveProbeMessage, @Ctx() ctx: RequestContext): LiveProbeEcho {
    return toLiveProbeEcho(message, ctx);
  }
}
