import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { waitFor } from "./wait-for";

const MAIN = path.resolve(__dirname, "../../dist/src/main.js");

export interface HubProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** JSON log lines parsed so far. */
  logs(): Array<Record<string, unknown>>;
  urls: { graphql: string; websocket: string; health: string } | undefined;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs the built hub (`dist/`, built by `npm test`) as a real child process with a
 * clean environment plus `env`, as an operator would run it.
 */
export function spawnHub(env: Record<string, string | undefined>): HubProcess {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const handle: HubProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    logs: () =>
      out.split("\n").flatMap((line) => {
        if (!line.startsWith("{")) return [];
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    urls: undefined,
    exited,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  return handle;
}

/** Waits for the "listening" line and records the URLs it names. */
export async function waitUntilListening(hub: HubProcess, timeoutMs = 60_000): Promise<NonNullable<HubProcess["urls"]>> {
  let exitedEarly = false;
  void hub.exited.then(() => (exitedEarly = true));
  const line = await waitFor(
    () => {
      if (exitedEarly) throw new Error(`hub exited before listening:\n${hub.stderr()}\n${hub.stdout()}`);
      return hub.logs().find((entry) => entry.msg === "affiliate-hub listening");
    },
    { timeoutMs, what: "the hub to listen" },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\nstdout:\n${hub.stdout()}\nstderr:\n${hub.stderr()}`);
  });
  const health = String(line.healthUrl);
  const base = health.replace(/\/healthz$/, "");
  hub.urls = {
    graphql: String(line.graphqlUrl ?? `${base}/graphql`),
    websocket: String(line.websocketUrl ?? `${base.replace(/^http/, "ws")}/graphql`),
    health,
  };
  return hub.urls;
}
