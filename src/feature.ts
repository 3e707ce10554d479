import type { EntityManager } from "@mikro-orm/postgresql";
import type { FastifyInstance } from "fastify";
import type { CronItem, TaskList } from "graphile-worker";
import type { EntityClass } from "@mikro-orm/core";
import type { EventTypeSpec } from "./common/event-type";
import type { HubConfig } from "./config";
import type { Hub } from "./context";
import type { ApiGate } from "./http/access";
import type { ReadinessCheck } from "./http/health";
import type { LiveSample } from "./live/state-sampler";

/**
 * What one feature folder brings to the hub, described once in its `index.ts` and listed
 * once in `src/features.ts`. The start-up code, the ORM, the schema builder, the job
 * runner and the live layer read these lists; none of them imports a feature.
 */
export interface HubFeature {
  readonly name: string;
  /** MikroORM entities (tables come from migrations; a test keeps the two equal). */
  readonly entities?: readonly EntityClass<unknown>[];
  /** type-graphql resolver classes. */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly resolvers?: readonly Function[];
  /** graphile-worker tasks, named `<table>__<verb>`. */
  readonly tasks?: (hub: Hub) => TaskList;
  /** Scheduled jobs (graphile-worker cron; at most once per slot across all workers). */
  readonly cron?: readonly CronItem[];
  /** States worker processes sample and announce over the live channel when they change. */
  readonly liveSamples?: readonly LiveSample[];
  /** Outbound event types this feature publishes. */
  readonly eventTypes?: readonly EventTypeSpec[];
  /** Runs once at start, after migrations and under their lock (e.g. the first admin key). */
  readonly bootstrap?: (em: EntityManager, config: HubConfig) => Promise<BootstrapResult | void>;
  /** Start-up wiring beyond the lists: HTTP routes and hooks, metrics, background loops. */
  readonly install?: (setup: FeatureSetup) => Promise<FeatureProvides | void> | FeatureProvides | void;
}

export interface BootstrapResult {
  /** A generated admin key, to be shown once. */
  generatedAdminKey?: string;
}

export interface FeatureSetup {
  readonly hub: Hub;
  readonly databaseUrl: string;
  /** The HTTP app in api roles; undefined in a worker-only process (which serves health only). */
  readonly app: FastifyInstance | undefined;
  readonly readiness: ReadinessCheck[];
  /** Registers a shutdown step; steps run in reverse order, after the HTTP server has drained. */
  onClose(step: () => Promise<void>): void;
}

/** What a feature hands to the HTTP layer. */
export interface FeatureProvides {
  /** The access gate GraphQL over WebSocket passes (the auth feature's). */
  apiGate?: ApiGate;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type ResolverClass = Function;

export const entitiesOf = (features: readonly HubFeature[]) => features.flatMap((feature) => feature.entities ?? []);
export const resolversOf = (features: readonly HubFeature[]): ResolverClass[] => features.flatMap((feature) => feature.resolvers ?? []);
export const cronOf = (features: readonly HubFeature[]): CronItem[] => features.flatMap((feature) => feature.cron ?? []);
export const liveSamplesOf = (features: readonly HubFeature[]) => features.flatMap((feature) => feature.liveSamples ?? []);
export const eventTypesOf = (features: readonly HubFeature[]) => features.flatMap((feature) => feature.eventTypes ?? []);

export function tasksOf(features: readonly HubFeature[], hub: Hub): TaskList {
  const tasks: TaskList = {};
  for (const feature of features) {
    for (const [name, task] of Object.entries(feature.tasks?.(hub) ?? {})) {
      if (name in tasks) throw new Error(`Task ${name} is declared twice (again by ${feature.name})`);
      tasks[name] = task;
    }
  }
  return tasks;
}
