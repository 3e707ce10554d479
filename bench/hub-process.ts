import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnNode, type ChildHandle } from "./child";

export interface BenchHub {
  readonly process: ChildHandle;
  readonly baseUrl: string;
  readonly graphqlUrl: string;
  readonly adminKey: string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 120_000;

/**
 * The hub exactly as an operator runs it (`node dist/src/main.js`), in its own process
 * so its memory can be read from /proc, with its own admin key and encryption key.
 * Limits that would throttle a load test (per-key and per-IP rate limits) are set high,
 * not switched off: the checks still run on every request.
 */
export async function startBenchHub(options: { databaseUrl: string; cpuProfileDir?: string; env?: Record<string, string> }): Promise<BenchHub> {
  const adminKey = randomBytes(32).toString("base64url");
  const dataDir = await mkdtemp(path.join(tmpdir(), "hub-bench-data-"));
  const nodeArgs = options.cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const child = spawnNode(
    "hub",
    "src/main.js",
    {
      DATABASE_URL: options.databaseUrl,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      DATA_DIR: dataDir,
      HUB_ADMIN_KEY: adminKey,
      HUB_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      // The receivers are on loopback: allowed here, refused in production by default.
      WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
      RATE_LIMIT_PER_MINUTE: "10000000",
      CLICK_RATE_LIMIT_PER_MINUTE: "10000000",
      ...options.env,
    },
    nodeArgs,
  );
  try {
    const line = await child.waitForJsonLine((entry) => entry.msg === "affiliate-hub listening", START_TIMEOUT_MS, "listening line");
    const graphqlUrl = String(line.graphqlUrl);
    return {
      process: child,
      baseUrl: graphqlUrl.replace(/\/graphql$/, ""),
      graphqlUrl,
      adminKey,
      stop: async () => {
        const exit = await child.stop();
        await rm(dataDir, { recursive: true, force: true });
        if (exit.code !== 0) throw new Error(`hub exited with ${exit.code ?? exit.signal} on shutdown\n${child.outputTail().slice(-4000)}`);
      },
    };
  } catch (error) {
    await child.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
