import type { HubFeature } from "../feature";
import { JobQueueResolver } from "./job-queue.resolver";
import { jobQueueSample } from "./job-queue.service";

/** The job queue's own figures (the runner itself is infrastructure, started by hub.ts). */
export const jobsFeature: HubFeature = {
  name: "jobs",
  resolvers: [JobQueueResolver],
  liveSamples: [jobQueueSample],
};
