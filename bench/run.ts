import "reflect-metadata";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import type { BenchContext, CheckResult } from "./context";
import { MissingFeatureError } from "./context";
import { openBenchServer } from "./database";
import { hubOperations } from "./hub-setup";
import { startBenchHub } from "./hub-process";
import { describeMachine } from "./machine";
import { evaluateTargets, memoryFigures, renderMarkdown, renderReport, type BenchReport, type ScenarioResults } from "./report";
import { runDelivery } from "./scenarios/delivery";
import { runDuplicateStorm, runIngest } from "./scenarios/ingest";
import { runQueueStats } from "./scenarios/queue-stats";
import { FULL, SMOKE } from "./sizes";

/**
 * `npm run bench` (full, a few minutes) or `npm run bench -- --smoke` (seconds, CI).
 * Options: `--only ingest,storm,delivery,queue-stats`, `--profile` (hub CPU profile into
 * bench/results/profiles/), `--out <file>`, `--worker-concurrency <n>` (hub and delivery
 * baseline alike). Exits 1 when a correctness check fails or a scenario cannot run;
 * missed performance targets are reported, not failed.
 */
/** The hub's own default (src/config.ts); the delivery baseline gets the same. */
const HUB_DEFAULT_WORKER_CONCURRENCY = 10;
const RESULTS_DIR = path.resolve(__dirname, "../../bench/results");
const SCENARIOS = {
  ingest: { key: "ingest", run: runIngest },
  storm: { key: "duplicateStorm", run: runDuplicateStorm },
  delivery: { key: "delivery", run: runDelivery },
  "queue-stats": { key: "queueStats", run: runQueueStats },
} as const;
type ScenarioName = keyof typeof SCENARIOS;

function options() {
  const { values } = parseArgs({
    options: {
      smoke: { type: "boolean", default: false },
      only: { type: "string" },
      profile: { type: "boolean", default: false },
      out: { type: "string" },
      "worker-concurrency": { type: "string", default: String(HUB_DEFAULT_WORKER_CONCURRENCY) },
    },
  });
  const names = values.only ? values.only.split(",").map((name) => name.trim()) : Object.keys(SCENARIOS);
  const unknown = names.filter((name) => !(name in SCENARIOS));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(", ")}; known: ${Object.keys(SCENARIOS).join(", ")}`);
  const mode = values.smoke ? ("smoke" as const) : ("full" as const);
  const workerConcurrency = Number(values["worker-concurrency"]);
  if (!Number.isInteger(workerConcurrency) || workerConcurrency < 1 || workerConcurrency > 100) {
    throw new Error(`--worker-concurrency must be an integer 1-100, got ${values["worker-concurrency"]}`);
  }
  return {
    mode,
    scenarios: names as ScenarioName[],
    profile: values.profile,
    workerConcurrency,
    out: values.out ? path.resolve(values.out) : path.join(RESULTS_DIR, mode === "full" ? "latest.json" : "smoke.json"),
  };
}

async function main(): Promise<number> {
  const opts = options();
  const sizes = opts.mode === "smoke" ? SMOKE : FULL;
  const started = performance.now();
  const progress = (message: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
  const undo: Array<() => Promise<void>> = [];
  const failures: BenchReport["failures"] = [];
  const cleanup = async () => {
    for (const step of undo.splice(0).reverse()) {
      await step().catch((error: unknown) => failures.push({ scenario: "cleanup", message: error instanceof Error ? error.message : String(error) }));
    }
  };
  // Bounded in time whatever happens: past the deadline, stop everything and fail.
  const watchdog = setTimeout(() => {
    progress(`deadline of ${sizes.deadlineSeconds} s passed: stopping`);
    void cleanup().finally(() => process.exit(1));
  }, sizes.deadlineSeconds * 1000);
  watchdog.unref();

  const checks: CheckResult[] = [];
  const results: ScenarioResults = {};
  let report: BenchReport | undefined;
  try {
    progress(`${opts.mode} run: ${opts.scenarios.join(", ")}`);
    const server = await openBenchServer(process.env.DATABASE_URL || undefined);
    undo.push(() => server.close());
    const hubDatabaseUrl = await server.createDatabase("hub");
    const cpuProfileDir = opts.profile ? path.join(RESULTS_DIR, "profiles") : undefined;
    if (cpuProfileDir) await mkdir(cpuProfileDir, { recursive: true });
    progress("starting the hub");
    const hub = await startBenchHub({ databaseUrl: hubDatabaseUrl, cpuProfileDir, env: { WORKER_CONCURRENCY: String(opts.workerConcurrency) } });
    undo.push(() => hub.stop());
    const hubDb = new pg.Pool({ connectionString: hubDatabaseUrl, max: 2 });
    hubDb.on("error", () => {});
    undo.push(() => hubDb.end());
    const context: BenchContext = {
      mode: opts.mode,
      sizes,
      workerConcurrency: opts.workerConcurrency,
      server,
      hub,
      hubDb,
      hubDatabaseUrl,
      operations: await hubOperations(hub),
      defer: (step) => void undo.push(step),
      progress,
      check: (name, ok, detail) => {
        checks.push({ name, ok, detail });
        if (!ok) progress(`check FAILED: ${name}: ${detail}`);
      },
    };
    const machine = describeMachine(server.version, server.embedded);

    for (const name of opts.scenarios) {
      const scenario = SCENARIOS[name];
      progress(`scenario ${name}`);
      try {
        (results as Record<string, unknown>)[scenario.key] = await scenario.run(context);
      } catch (error) {
        const message = error instanceof MissingFeatureError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
        failures.push({ scenario: name, message });
        progress(`scenario ${name} failed: ${message}`);
      }
    }
    progress("stopping");
    await cleanup();
    const memory = memoryFigures(results);
    report = {
      schema: 1,
      date: new Date().toISOString(),
      mode: opts.mode,
      workerConcurrency: opts.workerConcurrency,
      elapsedSeconds: Math.round((performance.now() - started) / 1000),
      machine,
      sizes,
      results: { ...results, memory },
      targets: evaluateTargets(results, memory),
      checks,
      failures,
    };
  } finally {
    await cleanup();
    clearTimeout(watchdog);
  }

  process.stdout.write(`${renderReport(report)}\n`);
  await mkdir(path.dirname(opts.out), { recursive: true });
  await writeFile(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = opts.out.replace(/\.json$/, "") + ".md";
  await writeFile(markdown, renderMarkdown(report));
  progress(`wrote ${path.relative(process.cwd(), opts.out)} and ${path.relative(process.cwd(), markdown)}`);
  return failures.length > 0 || checks.some((check) => !check.ok) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
