import { Arg, Authorized, Ctx, Int, Query, Resolver, Root, Subscription } from "type-graphql";
import type { RequestContext } from "../context";
import { BadUserInputError, UnauthenticatedError } from "../common/errors";
import { HubInfo } from "./system.types";
import { HUB_VERSION } from "../common/version";

function hubInfo(role: string): HubInfo {
  return Object.assign(new HubInfo(), { version: HUB_VERSION, role, now: new Date() });
}

const MIN_HEARTBEAT_MS = 100;

async function* heartbeats(role: string, intervalMs: number): AsyncGenerator<HubInfo> {
  // graphql-ws calls return() on the generator when the client completes or disconnects.
  while (true) {
    yield hubInfo(role);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

@Resolver()
export class SystemResolver {
  @Authorized()
  @Query(() => HubInfo, { description: "Version and clock of the answering process; any valid key." })
  hub(@Ctx() ctx: RequestContext): HubInfo {
    return hubInfo(ctx.hub.config.role);
  }

  @Authorized()
  @Subscription(() => HubInfo, {
    description: "A tick every intervalMs milliseconds: proves the WebSocket path end to end.",
    subscribe: ({ args, context }) => {
      // @Authorized guards each emitted value; refuse the subscription itself up front too.
      if ((context as RequestContext).viewer.kind !== "key") throw new UnauthenticatedError();
      const intervalMs = (args as { intervalMs: number }).intervalMs;
      if (intervalMs < MIN_HEARTBEAT_MS) {
        throw new BadUserInputError(`intervalMs must be at least ${MIN_HEARTBEAT_MS}`, { field: "intervalMs" });
      }
      return heartbeats((context as RequestContext).hub.config.role, intervalMs);
    },
  })
  heartbeat(
    @Root() tick: HubInfo,
    @Arg("intervalMs", () => Int, { defaultValue: 1000 }) _intervalMs: number,
  ): HubInfo {
    return tick;
  }
}
