import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

/** Where the compiled bench and hub live (`npm run bench` builds them first). */
export const DIST_ROOT = path.resolve(__dirname, "..");

const OUTPUT_TAIL_CHARS = 64 * 1024;

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<ChildExit>;
  /** Resolves with the first JSON line on stdout that `match` accepts; rejects on exit or deadline. */
  waitForJsonLine(match: (entry: Record<string, unknown>) => boolean, timeoutMs: number, what: string): Promise<Record<string, unknown>>;
  /** The last output, for error messages. */
  outputTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<ChildExit>;
}

/**
 * Runs a compiled script of this repository in its own Node process, with a clean
 * environment plus `env`, so each side of a comparison gets its own process and its
 * own event loop.
 */
export function spawnNode(name: string, script: string, env: Record<string, string | undefined>, nodeArgs: string[] = []): ChildHandle {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, path.join(DIST_ROOT, script)], {
    env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${script}`);
  let tail = "";
  let pendingLine = "";
  const lineListeners = new Set<(entry: Record<string, unknown>) => void>();
  const keep = (text: string) => {
    tail = (tail + text).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout!.on("data", (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    keep(text);
    if (lineListeners.size === 0) return;
    const lines = (pendingLine + text).split("\n");
    pendingLine = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("{")) continue;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (const listener of lineListeners) listener(entry);
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => keep(chunk.toString("utf8")));
  let exitInfo: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) =>
    child.on("exit", (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    }),
  );

  return {
    name,
    pid: child.pid,
    exited,
    outputTail: () => tail,
    waitForJsonLine: (match, timeoutMs, what) =>
      new Promise((resolve, reject) => {
        const done = (error: Error | undefined, entry?: Record<string, unknown>) => {
          clearTimeout(timer);
          lineListeners.delete(listener);
          if (error) reject(error);
          else resolve(entry!);
        };
        const listener = (entry: Record<string, unknown>) => {
          if (match(entry)) done(undefined, entry);
        };
        const timer = setTimeout(() => done(new Error(`${name}: no ${what} within ${timeoutMs} ms\n${tail.slice(-4000)}`)), timeoutMs);
        lineListeners.add(listener);
        void exited.then((exit) => done(new Error(`${name} exited (${exit.code ?? exit.signal}) before ${what}\n${tail.slice(-4000)}`)));
      }),
    stop: async (graceMs = 20_000) => {
      if (exitInfo) return exitInfo;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const exit = await exited;
      clearTimeout(killer);
      return exit;
    },
  };
}
