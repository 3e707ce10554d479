import "reflect-metadata";
import { ConfigError, loadConfig, type HubConfig } from "./config";
import { createLogger } from "./common/logger";
import { reportUnhandledRejections } from "./common/unhandled-rejections";
import { startHub } from "./hub";

async function main(): Promise<void> {
  let config: HubConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`affiliate-hub: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);

  let running: Awaited<ReturnType<typeof startHub>>;
  try {
    running = await startHub(config, log);
  } catch (error) {
    log.fatal({ err: error }, "affiliate-hub failed to start");
    process.stderr.write(`affiliate-hub: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  reportUnhandledRejections(log, running.hub.metrics);

  if (process.stdout.isTTY) {
    const { urls, database } = running;
    const lines = [
      config.runsApi ? `  GraphQL:   ${urls.http}/graphql` : undefined,
      config.runsApi ? `  WebSocket: ${urls.ws}/graphql` : undefined,
      `  Health:    ${urls.http}/healthz  /readyz  /metrics`,
      `  Database:  ${database.embedded ? `embedded Postgres, data in ${database.dataDir}` : "DATABASE_URL"}`,
    ].filter(Boolean);
    process.stdout.write(`\naffiliate-hub ${config.role} is running\n${lines.join("\n")}\n\n`);
  }

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      // Supervisors often signal the whole process group, so a repeated SIGTERM is
      // expected and ignored (the shutdown deadline bounds it); a second Ctrl-C is a person insisting.
      if (signal === "SIGINT") {
        log.warn({ signal }, "second interrupt during shutdown: exiting now");
        process.exit(1);
      }
      return;
    }
    stopping = true;
    log.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, "shutdown took too long: exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    running.close().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

void main();
