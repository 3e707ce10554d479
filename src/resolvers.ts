import type { NonEmptyArray } from "type-graphql";
import { SystemResolver } from "./system/system.resolver";
import { JobQueueResolver } from "./jobs/job-queue.resolver";
import { LiveProbeResolver } from "./live/live-probe.resolver";

/** Every feature's resolvers; the schema is built from exactly this list. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const RESOLVERS: NonEmptyArray<Function> = [SystemResolver, JobQueueResolver, LiveProbeResolver];
