import "reflect-metadata";
import type { TaskList } from "graphile-worker";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { HubConfig } from "./config";
import type { Logger } from "./common/logger";
import type { Hub } from "./context";
import { openOrm } from "./db/orm";
import { createPool, migrate, pendingMigrations, provideDatabase, waitForDatabase, type DatabaseHandle } from "./db/database";
import { startWorker, type WorkerHandle } from "./jobs/runner";
import { createHttpApp, listeningUrls } from "./http/server";
import { registerHealthRoutes, type ReadinessCheck } from "./http/health";
import { registerGraphql } from "./http/graphql";
import { attachGraphqlWebSocket, type WebSocketHandle } from "./http/websocket";
import { buildHubSchema } from "./schema";
import { LocalPubSub } from "./live/local-pubsub";
import { loadOrCreateKeyFile, parseEncryptionKey, SecretBox } from "./common/secret-box";
import { installLive } from "./live/install";
import { cronOf, entitiesOf, eventTypesOf, liveSamplesOf, resolversOf, tasksOf, type FeatureProvides, type HubFeature } from "./feature";
import { FEATURES } from "./features";
import { eventTypeCatalogue } from "./outbox/event-types";

export interface StartOptions {
  /** Extra tasks for the worker, on top of the features' own (used by tests). */
  extraTasks?: TaskList;
  /** Called with an admin secret generated on the very first start; default prints it once. */
  onGeneratedAdminKey?: (secret: string) => void;
  /** The features to run; default all of them (src/features.ts). */
  features?: readonly HubFeature[];
}

export interface RunningHub {
  readonly hub: Hub;
  readonly database: DatabaseHandle;
  /** Base URLs of the HTTP server (absent only if the server failed to listen). */
  readonly urls: { http: string; ws: string };
  close(): Promise<void>;
}

async function openSecretBox(config: HubConfig, log: Logger): Promise<SecretBox> {
  const configured = config.encryptionKey ? parseEncryptionKey(config.encryptionKey) : undefined;
  if (configured) return new SecretBox(configured);
  const { key, created, file } = await loadOrCreateKeyFile(config.dataDir);
  if (created) log.info({ file }, "generated an encryption key for stored signing secrets");
  if (config.databaseUrl) {
    log.warn({ file }, "HUB_ENCRYPTION_KEY is unset: using a key file; every process sharing this database needs the same key");
  }
  return new SecretBox(key);
}

function printGeneratedAdminKey(secret: string): void {
  process.stdout.write(
    [
      "",
      "  No API keys existed, so an admin key was created. It is shown this once:",
      "",
      `    ${secret}`,
      "",
      "  Store it now (e.g. in a password manager); the hub keeps only its hash.",
      "",
      "",
    ].join("\n"),
  );
}

/**
 * Starts one hub process: config → database → migrations → worker → HTTP.
 * The returned close() undoes each step in reverse order; steps that failed
 * part-way are undone too, so a failed start leaves nothing running.
 */
export async function startHub(config: HubConfig, log: Logger, options: StartOptions = {}): Promise<RunningHub> {
  const features = options.features ?? FEATURES;
  const undo: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch (error) {
        log.error({ err: error }, "error during shutdown");
      }
    }
    undo.length = 0;
  };

  try {
    const database = await provideDatabase(config, log);
    undo.push(() => database.stop());
    await waitForDatabase(database.url, log);

    const orm = await openOrm(database.url, config.databasePoolSize, entitiesOf(features), log);
    undo.push(() => orm.close(true));
    const pool = createPool(database.url, Math.max(4, config.workerConcurrency + 2), log, config.role);
    undo.push(() => pool.end());

    // Under the migration lock, so processes starting together create one first key, not two.
    let generatedSecret: string | undefined;
    const bootstrap = async () => {
      for (const feature of features) {
        const result = await feature.bootstrap?.(orm.em.fork(), config);
        generatedSecret ??= result?.generatedAdminKey;
      }
    };
    if (config.migrateOnStart) await migrate(orm, pool, log, bootstrap);
    else await bootstrap();
    if (generatedSecret) (options.onGeneratedAdminKey ?? printGeneratedAdminKey)(generatedSecret);
    const migrationsPending = await pendingMigrations(orm);
    if (migrationsPending > 0) log.warn({ migrationsPending }, "database has unapplied migrations");

    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    const secrets = await openSecretBox(config, log);
    const pubSub = new LocalPubSub((error, topic) => log.error({ err: error, topic }, "a live subscriber failed"));
    const eventTypes = eventTypeCatalogue(eventTypesOf(features));
    const hub: Hub = Object.freeze({ config, log, orm, pool, metrics, pubSub, secrets, eventTypes });

    const readiness: ReadinessCheck[] = [
      { name: "database", check: async () => void (await pool.query("select 1")) },
      {
        name: "migrations",
        check: async () => {
          if (migrationsPending > 0) throw new Error(`${migrationsPending} migrations not applied`);
        },
      },
    ];

    // Live events between processes (LISTEN in api roles, state sampling in worker roles):
    // up before the HTTP server accepts subscribers, down after it has closed them.
    const live = await installLive(hub, database.url, readiness, liveSamplesOf(features));
    undo.push(() => live.close());

    let worker: WorkerHandle | undefined;
    if (config.runsWorker) {
      worker = await startWorker(hub, { ...tasksOf(features, hub), ...options.extraTasks }, cronOf(features));
      const runningWorker = worker;
      undo.push(() => runningWorker.stop());
      readiness.push({
        name: "worker",
        check: async () => {
          if (!runningWorker.isRunning()) throw new Error("job worker is not running");
        },
      });
    }

    const app = createHttpApp(hub);
    registerHealthRoutes(app, readiness, metrics, { metricsToken: config.metricsToken });
    // After the worker (their loops stop before the worker does), before the HTTP server
    // (their shutdown steps run after it has drained), in the list's order.
    const provided: FeatureProvides = {};
    for (const feature of features) {
      const provides = await feature.install?.({
        hub,
        databaseUrl: database.url,
        app: config.runsApi ? app : undefined,
        readiness,
        onClose: (step) => undo.push(step),
      });
      Object.assign(provided, provides ?? {});
    }
    let webSocket: WebSocketHandle | undefined;
    if (config.runsApi) {
      const schema = await buildHubSchema(resolversOf(features), hub.pubSub);
      await registerGraphql(app, hub, schema);
      if (!provided.apiGate) throw new Error("no feature provides the access gate (the auth feature is missing)");
      webSocket = attachGraphqlWebSocket(app.server, hub, schema, provided.apiGate);
    }
    // Shutdown order: WebSockets first (they would hold the server open), then HTTP,
    // which waits for in-flight requests before the worker and database go.
    undo.push(() => app.close());
    if (webSocket) {
      const ws = webSocket;
      undo.push(() => ws.close());
    }
    await app.listen({ port: config.port, host: config.host });
    const urls = listeningUrls(app.server, config.host, config.tls !== undefined);
    log.info(
      {
        role: config.role,
        ...(config.runsApi ? { graphqlUrl: `${urls.http}/graphql`, websocketUrl: `${urls.ws}/graphql` } : {}),
        healthUrl: `${urls.http}/healthz`,
        database: database.embedded ? `embedded Postgres, data in ${database.dataDir}` : "DATABASE_URL",
      },
      "affiliate-hub listening",
    );

    let closing: Promise<void> | undefined;
    return {
      hub,
      database,
      urls,
      close: () => (closing ??= closeAll()),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
