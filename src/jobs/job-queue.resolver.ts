import { Authorized, Ctx, Query, Resolver, Root, Subscription } from "type-graphql";
import type { RequestContext } from "../context";
import { liveState } from "../live/subscriptions";
import { loadJobQueueStats } from "./job-queue.service";
import { JobQueueStats } from "./job-queue.types";

@Resolver()
export class JobQueueResolver {
  @Authorized("ADMIN")
  @Query(() => JobQueueStats, { description: "The background job queue now. Admin keys." })
  async jobQueue(@Ctx() ctx: RequestContext): Promise<JobQueueStats> {
    return loadJobQueueStats(ctx.em);
  }

  @Authorized("ADMIN")
  @Subscription(() => JobQueueStats, {
    description:
      "The job queue on subscribe, then whenever it changes (at most once per QUEUE_DEPTH_PUSH_INTERVAL_MS), " +
      "and again after the server's database listener reconnects. Admin keys.",
    subscribe: ({ context }) => {
      const { hub } = context as RequestContext;
      return liveState(context as RequestContext, {
        name: "jobQueue",
        changeTopics: ["jobs.queue_changed"],
        load: () => loadJobQueueStats(hub.orm.em.fork()),
      });
    },
  })
  jobQueueChanged(@Root() stats: JobQueueStats): JobQueueStats {
    return stats;
  }
}
