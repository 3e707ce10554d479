import type { CheckResult } from "./context";
import { ratio } from "./stats";
import type { MachineDescription } from "./machine";
import type { DeliveryResult } from "./scenarios/delivery";
import type { IngestResult, StormResult } from "./scenarios/ingest";
import type { QueueStatsResult } from "./scenarios/queue-stats";
import type { Sizes } from "./sizes";

export interface ScenarioResults {
  ingest?: IngestResult;
  duplicateStorm?: StormResult;
  delivery?: DeliveryResult;
  queueStats?: QueueStatsResult;
}

export interface MemoryFigures {
  /** Peak RSS of the hub process while each scenario ran against it (MB). */
  ingestPeakMb: number | null;
  duplicateStormPeakMb: number | null;
  deliveryPeakMb: number | null;
  method: string | null;
}

export interface TargetRow {
  target: string;
  value: string;
  met: boolean | null;
}

export interface BenchReport {
  schema: 1;
  date: string;
  mode: "full" | "smoke";
  workerConcurrency: number;
  elapsedSeconds: number;
  machine: MachineDescription;
  sizes: Sizes;
  results: ScenarioResults & { memory: MemoryFigures };
  targets: TargetRow[];
  checks: CheckResult[];
  failures: Array<{ scenario: string; message: string }>;
}

export function memoryFigures(results: ScenarioResults): MemoryFigures {
  const rss = [results.ingest?.hub.peakRss, results.duplicateStorm?.hub.peakRss, results.delivery?.hub.peakRss];
  return {
    ingestPeakMb: rss[0]?.peakMb ?? null,
    duplicateStormPeakMb: rss[1]?.peakMb ?? null,
    deliveryPeakMb: rss[2]?.peakMb ?? null,
    method: rss.find((entry) => entry)?.method ?? null,
  };
}

const fmt = (value: number | null | undefined, digits = 0) =>
  value === null || value === undefined ? "–" : value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

function target(rows: TargetRow[], name: string, value: number | null | undefined, shown: string, meets: (v: number) => boolean): void {
  rows.push({ target: name, value: value === null || value === undefined ? "not measured" : shown, met: value === null || value === undefined ? null : meets(value) });
}

/** The goals of issue 6, held against the figures (not a pass/fail of the run). */
export function evaluateTargets(results: ScenarioResults, memory: MemoryFigures): TargetRow[] {
  const rows: TargetRow[] = [];
  const ingest = results.ingest;
  target(rows, "postback ingest ≥ 2 000 accepted/s", ingest?.hub.saturation.acceptedPerSecond, `${fmt(ingest?.hub.saturation.acceptedPerSecond)}/s`, (v) => v >= 2_000);
  target(rows, "postback ingest ≥ 0.5 × baseline", ingest?.saturationRatio, `${fmt(ingest?.saturationRatio, 2)} ×`, (v) => v >= 0.5);
  target(rows, "postback p99 ≤ 50 ms at 1 000/s", ingest?.hub.paced.latency.p99Ms, `${fmt(ingest?.hub.paced.latency.p99Ms, 1)} ms`, (v) => v <= 50);
  const delivery = results.delivery;
  target(rows, "delivery ≥ 1 000/s", delivery?.hub.deliveriesPerSecond, `${fmt(delivery?.hub.deliveriesPerSecond)}/s`, (v) => v >= 1_000);
  target(rows, "delivery ≥ 0.5 × baseline", delivery?.deliveriesRatio, `${fmt(delivery?.deliveriesRatio, 2)} ×`, (v) => v >= 0.5);
  target(rows, "event → first attempt p50 ≤ 20 ms (idle)", delivery?.hub.idleLatency.p50Ms, `${fmt(delivery?.hub.idleLatency.p50Ms, 1)} ms`, (v) => v <= 20);
  const largest = results.queueStats?.steps.at(-1);
  const atMillion = largest && largest.rows >= 1_000_000 ? largest.graphql.p50Ms : undefined;
  target(rows, "queueStats ≤ 10 ms at 1 000 000 rows (p50)", atMillion, `${fmt(atMillion, 1)} ms`, (v) => v <= 10);
  const peaks = [memory.ingestPeakMb, memory.deliveryPeakMb].filter((v): v is number => v !== null);
  const peak = peaks.length > 0 ? Math.max(...peaks) : null;
  target(rows, "hub peak RSS ≤ 300 MB (during 1 and 3)", peak, `${fmt(peak)} MB`, (v) => v <= 300);
  return rows;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

const pair = (a: number | null | undefined, b: number | null | undefined, digits = 1) => `${fmt(a, digits)} / ${fmt(b, digits)}`;

function figureRows(report: BenchReport): string[][] {
  const { results } = report;
  const rows: string[][] = [];
  const { ingest, duplicateStorm: storm, delivery, queueStats } = results;
  if (ingest) {
    rows.push([`1 ingest: accepted/s, saturation (${ingest.hub.saturation.connections} connections)`,
      fmt(ingest.hub.saturation.acceptedPerSecond), fmt(ingest.baseline.saturation.acceptedPerSecond), fmt(ingest.saturationRatio, 2)]);
    rows.push(["1 ingest: server process CPU ms per postback, saturation", fmt(ingest.hub.saturation.cpuMsPerRequest, 2),
      fmt(ingest.baseline.saturation.cpuMsPerRequest, 2), fmt(ratio(ingest.baseline.saturation.cpuMsPerRequest, ingest.hub.saturation.cpuMsPerRequest), 2)]);
    rows.push(["1 ingest: latency p50 / p99 ms, saturation", pair(ingest.hub.saturation.latency.p50Ms, ingest.hub.saturation.latency.p99Ms),
      pair(ingest.baseline.saturation.latency.p50Ms, ingest.baseline.saturation.latency.p99Ms), ""]);
    rows.push([`1 ingest: latency p50 / p99 ms at ${fmt(ingest.hub.paced.offeredPerSecond)}/s offered`,
      pair(ingest.hub.paced.latency.p50Ms, ingest.hub.paced.latency.p99Ms), pair(ingest.baseline.paced.latency.p50Ms, ingest.baseline.paced.latency.p99Ms), ""]);
    rows.push(["1 ingest: answered/s at that offered rate", fmt(ingest.hub.paced.acceptedPerSecond), fmt(ingest.baseline.paced.acceptedPerSecond), ""]);
    rows.push(["1 ingest: latency p50 / p99 ms at half its own saturation rate",
      `${pair(ingest.hub.pacedAtHalf.latency.p50Ms, ingest.hub.pacedAtHalf.latency.p99Ms)} at ${fmt(ingest.hub.pacedAtHalf.offeredPerSecond)}/s`,
      `${pair(ingest.baseline.pacedAtHalf.latency.p50Ms, ingest.baseline.pacedAtHalf.latency.p99Ms)} at ${fmt(ingest.baseline.pacedAtHalf.offeredPerSecond)}/s`, ""]);
  }
  if (storm) {
    rows.push([`2 duplicate storm: 2xx/s (${Math.round(storm.hub.duplicateShare * 100)}% duplicates)`,
      fmt(storm.hub.saturation.acceptedPerSecond), fmt(storm.baseline.saturation.acceptedPerSecond), fmt(storm.saturationRatio, 2)]);
    rows.push(["2 duplicate storm: stored / distinct ids", `${fmt(storm.hub.stored)} / ${fmt(storm.hub.distinctIds)}`,
      `${fmt(storm.baseline.stored)} / ${fmt(storm.baseline.distinctIds)}`, ""]);
  }
  if (delivery) {
    rows.push([`3 delivery: deliveries/s (${fmt(delivery.hub.events)} events)`, fmt(delivery.hub.deliveriesPerSecond),
      fmt(delivery.baseline.deliveriesPerSecond), fmt(delivery.deliveriesRatio, 2)]);
    rows.push(["3 delivery: delivering process CPU ms per delivery", fmt(delivery.hub.cpuMsPerDelivery, 2), fmt(delivery.baseline.cpuMsPerDelivery, 2),
      fmt(ratio(delivery.baseline.cpuMsPerDelivery, delivery.hub.cpuMsPerDelivery), 2)]);
    rows.push(["3 delivery: event → first attempt p50 / p99 ms, idle", pair(delivery.hub.idleLatency.p50Ms, delivery.hub.idleLatency.p99Ms),
      pair(delivery.baseline.idleLatency.p50Ms, delivery.baseline.idleLatency.p99Ms), ""]);
    rows.push(["3 delivery: event → first attempt p50 / p99 s, backlog",
      pair((delivery.hub.backlogLatency.p50Ms ?? 0) / 1000, (delivery.hub.backlogLatency.p99Ms ?? 0) / 1000, 2),
      pair((delivery.baseline.backlogLatency.p50Ms ?? 0) / 1000, (delivery.baseline.backlogLatency.p99Ms ?? 0) / 1000, 2), ""]);
    rows.push(["3 delivery: recorded succeeded/s (bookkeeping done)", fmt(delivery.hub.recordedPerSecond), "", ""]);
  }
  if (queueStats) {
    for (const step of queueStats.steps) {
      rows.push([`4 queueStats p50 / p99 ms at ${fmt(step.rows)} rows (GraphQL; service alone)`,
        `${pair(step.graphql.p50Ms, step.graphql.p99Ms)}; ${pair(step.service.p50Ms, step.service.p99Ms)}`, "", ""]);
    }
  }
  const memory = results.memory;
  rows.push(["5 hub peak RSS MB: ingest / storm / delivery",
    `${fmt(memory.ingestPeakMb)} / ${fmt(memory.duplicateStormPeakMb)} / ${fmt(memory.deliveryPeakMb)}`, "", ""]);
  return rows;
}

function machineLine(report: BenchReport): string {
  const { machine } = report;
  return `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}, ` +
    `PostgreSQL ${machine.postgres}${machine.postgresEmbedded ? " (embedded)" : ""} on the same machine, ` +
    `load average at start ${machine.loadAverageAtStart.join(" ")}`;
}

const FIGURE_HEADER = ["figure", "hub", "baseline", "hub/baseline"];
const TARGET_HEADER = ["target", "value", "met"];
const targetCells = (row: TargetRow) => [row.target, row.value, row.met === null ? "–" : row.met ? "yes" : "NO"];

/** The same figures as Markdown tables, for bench/README.md. */
export function renderMarkdown(report: BenchReport): string {
  const markdownTable = (header: string[], rows: string[][]) =>
    [header, header.map(() => "---"), ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
  return [
    `Run of ${report.date} (${report.mode}, ${report.elapsedSeconds} s): ${machineLine(report)}.`,
    "",
    markdownTable(FIGURE_HEADER, figureRows(report)),
    "",
    markdownTable(TARGET_HEADER, report.targets.map(targetCells)),
    "",
  ].join("\n");
}

export function renderReport(report: BenchReport): string {
  const header = `affiliate-hub bench (${report.mode}), ${report.date}, ${report.elapsedSeconds} s\n${machineLine(report)}`;
  const parts = [header, "", table(FIGURE_HEADER, figureRows(report))];
  if (report.mode === "full") {
    parts.push("", table(TARGET_HEADER, report.targets.map(targetCells)));
  }
  const failed = report.checks.filter((check) => !check.ok);
  parts.push("", `checks: ${report.checks.length - failed.length} of ${report.checks.length} passed`);
  for (const check of failed) parts.push(`  FAILED ${check.name}: ${check.detail}`);
  for (const failure of report.failures) parts.push(`  FAILED scenario ${failure.scenario}: ${failure.message}`);
  return parts.join("\n");
}
