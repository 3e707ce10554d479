import { randomBytes } from "node:crypto";
import { spawnNode } from "../child";
import type { BenchContext } from "../context";
import { requireOperations } from "../context";
import { createPostbackTenant, type PostbackTenant } from "../hub-setup";
import { IngestLedger, postbackTarget, settle } from "../ingest-ledger";
import { paced, saturate, type LoadResult, type LoadTarget } from "../load";
import { cpuPerOperation, processCpuMs, watchPeakRss, type PeakRss } from "../proc";
import { postbackSource, type PostbackSource } from "../postback-source";
import { perSecond, ratio, summarizeLatencies, type LatencySummary } from "../stats";

/**
 * Scenarios 1 and 2: signed postbacks into the hub with every layer on (API key, IP
 * allowlist, rate limit set high, request log, attribution, dedupe, outbox), against
 * the baseline (node:http + one INSERT … ON CONFLICT DO NOTHING), both measured by
 * autocannon from this process.
 */
export interface LoadFigures {
  connections: number;
  seconds: number;
  /** 2xx answers per second over the run. */
  acceptedPerSecond: number;
  requests: number;
  non2xx: number;
  errors: number;
  statusCounts: Record<string, number>;
  latency: LatencySummary;
  /** CPU time (user + system) of the server process per 2xx answer in this run, in ms. */
  cpuMsPerRequest: number | null;
}

export interface PacedFigures extends Omit<LoadFigures, "connections"> {
  offeredPerSecond: number;
}

export interface IngestSide {
  saturation: LoadFigures;
  /** At the fixed offered rate of the targets (1 000/s). */
  paced: PacedFigures;
  /** At half of this side's own saturation throughput. */
  pacedAtHalf: PacedFigures;
  outcomes: Record<string, number>;
  stored: number;
  distinctIds: number;
}

export interface IngestResult {
  hub: IngestSide & { peakRss: PeakRss };
  baseline: IngestSide;
  saturationRatio: number | null;
}

export interface StormSide {
  saturation: LoadFigures;
  requests: number;
  distinctIds: number;
  duplicateShare: number;
  outcomes: Record<string, number>;
  stored: number;
}

export interface StormResult {
  hub: StormSide & { peakRss: PeakRss };
  baseline: StormSide;
  saturationRatio: number | null;
}

const INBOUND_OPERATIONS = ["createOperator", "createApiKey", "createAffiliate", "createCampaign"];

function figures(result: LoadResult, connections: number, seconds: number, cpuMsPerRequest: number | null = null): LoadFigures {
  return {
    connections,
    seconds,
    acceptedPerSecond: perSecond(result.ok2xx, result.elapsedMs),
    requests: result.responses,
    non2xx: result.responses - result.ok2xx,
    errors: result.errors + result.timeouts,
    statusCounts: result.statusCounts,
    latency: summarizeLatencies(result.latenciesMs),
    cpuMsPerRequest,
  };
}

/** A saturation run with the server process's CPU time per answered request. */
async function saturationFigures(target: LoadTarget, serverPid: number, connections: number, seconds: number): Promise<LoadFigures> {
  const cpuBefore = processCpuMs(serverPid);
  const result = await saturate(target, connections, seconds);
  return figures(result, connections, seconds, cpuPerOperation(cpuBefore, processCpuMs(serverPid), result.ok2xx));
}

const runId = () => randomBytes(4).toString("hex");

/** Starts the baseline server on its own database; stopped with the returned function. */
async function startBaselineServer(context: BenchContext): Promise<{ url: string; databaseUrl: string; pid: number; stop: () => Promise<void> }> {
  const databaseUrl = await context.server.createDatabase("ingest_baseline");
  const child = spawnNode("baseline ingest server", "bench/baseline/ingest-server.js", { DATABASE_URL: databaseUrl, POOL_SIZE: "10" });
  const stop = async () => void (await child.stop());
  context.defer(stop);
  const line = await child.waitForJsonLine((entry) => entry.msg === "baseline listening", 30_000, "listening line");
  return { url: `http://127.0.0.1:${Number(line.port)}`, databaseUrl, pid: child.pid, stop };
}

async function countBaseline(databaseUrl: string, prefix: string): Promise<number> {
  const pg = await import("pg");
  const client = new pg.default.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>("select count(*) as n from baseline_conversion where event_id like $1", [`${prefix}-%`]);
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

async function countHub(context: BenchContext, operatorId: string): Promise<{ conversions: number; events: number }> {
  const { rows } = await context.hubDb.query<{ conversions: string; events: string }>(
    `select (select count(*) from conversion where operator_id = $1) as conversions,
            (select count(*) from event where operator_id = $1 and type = 'conversion.recorded') as events`,
    [operatorId],
  );
  return { conversions: Number(rows[0]!.conversions), events: Number(rows[0]!.events) };
}

/** Every id sent is stored exactly once; nothing was refused or lost. */
function checkLedger(context: BenchContext, label: string, ledger: IngestLedger, stored: number): void {
  const refused = Object.entries(ledger.outcomes).filter(([outcome]) => outcome !== "accepted" && outcome !== "duplicate");
  context.check(`${label}: every request answered accepted or duplicate`, refused.length === 0 && ledger.unsettled().length === 0,
    refused.length === 0 ? `${ledger.answeredIds.size} ids settled` : `other answers: ${JSON.stringify(Object.fromEntries(refused))}`);
  context.check(`${label}: stored rows = distinct ids sent`, stored === ledger.sentIds.size, `${stored} stored, ${ledger.sentIds.size} distinct ids sent`);
  context.check(`${label}: accepted answers ≤ distinct ids`, ledger.count("accepted") <= ledger.sentIds.size && ledger.count("accepted") > 0,
    `${ledger.count("accepted")} accepted, ${ledger.sentIds.size} distinct ids`);
}

async function pacedFigures(context: BenchContext, target: LoadTarget, ratePerSecond: number): Promise<PacedFigures> {
  const { pacedSeconds } = context.sizes.ingest;
  const run = await paced(target, ratePerSecond, pacedSeconds);
  const { connections: _connections, ...rest } = figures(run, 0, pacedSeconds);
  // Each staggered instance offers its share for pacedSeconds; the wall clock also spans the stagger.
  return { ...rest, acceptedPerSecond: Math.round(run.ok2xx / pacedSeconds), offeredPerSecond: run.offeredPerSecond };
}

async function measureIngestSide(
  context: BenchContext,
  serverPid: number,
  url: string,
  source: PostbackSource,
  ledger: IngestLedger,
): Promise<{ saturation: LoadFigures; paced: PacedFigures; pacedAtHalf: PacedFigures }> {
  const { ingest } = context.sizes;
  const target = postbackTarget(url, source, ledger);
  if (ingest.warmupSeconds > 0) await saturate(target, ingest.connections, ingest.warmupSeconds);
  const saturation = await saturationFigures(target, serverPid, ingest.connections, ingest.saturationSeconds);
  const pacedRun = await pacedFigures(context, target, ingest.pacedRatePerSecond);
  // The latency at a load this side can carry: half its own saturation throughput.
  const halfRate = Math.max(10, Math.round(saturation.acceptedPerSecond / 20) * 10);
  const pacedAtHalf = await pacedFigures(context, target, halfRate);
  return { saturation, paced: pacedRun, pacedAtHalf };
}

export async function runIngest(context: BenchContext): Promise<IngestResult> {
  requireOperations(context, "inbound postbacks (issue 3)", INBOUND_OPERATIONS);
  const { hub } = context;
  const tenant: PostbackTenant = await createPostbackTenant(hub, `bench ingest ${runId()}`, context.sizes.ingest.clicks);

  context.progress("ingest: hub");
  const hubLedger = new IngestLedger();
  const hubSource = postbackSource({ apiKey: tenant.apiKey, secret: tenant.postbackSecret, idPrefix: `ing-${runId()}`, clickIds: tenant.clickIds });
  const memory = watchPeakRss(hub.process.pid);
  const hubRuns = await measureIngestSide(context, hub.process.pid, hub.baseUrl, hubSource, hubLedger);
  const peakRss = memory.stop();
  await settle(hub.baseUrl, hubSource, hubLedger);
  const hubCounts = await countHub(context, tenant.operatorId);
  checkLedger(context, "ingest (hub)", hubLedger, hubCounts.conversions);
  context.check("ingest (hub): one conversion.recorded event per conversion (outbox)", hubCounts.events === hubCounts.conversions,
    `${hubCounts.events} events, ${hubCounts.conversions} conversions`);

  context.progress("ingest: baseline");
  const baseline = await startBaselineServer(context);
  const baselineLedger = new IngestLedger();
  const baselinePrefix = `ing-${runId()}`;
  const baselineSource = postbackSource({ apiKey: "-", secret: "-", idPrefix: baselinePrefix, clickIds: tenant.clickIds });
  const baselineRuns = await measureIngestSide(context, baseline.pid, baseline.url, baselineSource, baselineLedger);
  await settle(baseline.url, baselineSource, baselineLedger);
  const baselineStored = await countBaseline(baseline.databaseUrl, baselinePrefix);
  checkLedger(context, "ingest (baseline)", baselineLedger, baselineStored);
  await baseline.stop();

  return {
    hub: { ...hubRuns, outcomes: hubLedger.outcomes, stored: hubCounts.conversions, distinctIds: hubLedger.sentIds.size, peakRss },
    baseline: { ...baselineRuns, outcomes: baselineLedger.outcomes, stored: baselineStored, distinctIds: baselineLedger.sentIds.size },
    saturationRatio: ratio(hubRuns.saturation.acceptedPerSecond, baselineRuns.saturation.acceptedPerSecond),
  };
}

async function stormSide(
  context: BenchContext,
  serverPid: number,
  url: string,
  source: PostbackSource,
  ledger: IngestLedger,
): Promise<{ saturation: LoadFigures; requests: number; distinctIds: number; duplicateShare: number }> {
  const { connections } = context.sizes.ingest;
  const { seconds } = context.sizes.storm;
  const saturation = await saturationFigures(postbackTarget(url, source, ledger), serverPid, connections, seconds);
  const requests = source.requestsMade;
  const distinctIds = ledger.sentIds.size;
  return { saturation, requests, distinctIds, duplicateShare: Number((1 - distinctIds / Math.max(1, requests)).toFixed(3)) };
}

/** Scenario 2: the same load where every event id is sent twice (50% duplicates, racing). */
export async function runDuplicateStorm(context: BenchContext): Promise<StormResult> {
  requireOperations(context, "inbound postbacks (issue 3)", INBOUND_OPERATIONS);
  const { hub } = context;
  const tenant = await createPostbackTenant(hub, `bench storm ${runId()}`, context.sizes.ingest.clicks);

  context.progress("duplicate storm: hub");
  const hubLedger = new IngestLedger();
  const hubSource = postbackSource({
    apiKey: tenant.apiKey, secret: tenant.postbackSecret, idPrefix: `dup-${runId()}`, clickIds: tenant.clickIds, duplicates: true,
  });
  const memory = watchPeakRss(hub.process.pid);
  const hubRun = await stormSide(context, hub.process.pid, hub.baseUrl, hubSource, hubLedger);
  const peakRss = memory.stop();
  await settle(hub.baseUrl, hubSource, hubLedger);
  const hubCounts = await countHub(context, tenant.operatorId);
  checkLedger(context, "duplicate storm (hub)", hubLedger, hubCounts.conversions);
  context.check("duplicate storm (hub): one conversion.recorded event per conversion (outbox)", hubCounts.events === hubCounts.conversions,
    `${hubCounts.events} events, ${hubCounts.conversions} conversions`);
  context.check("duplicate storm (hub): about half the requests were duplicates", hubRun.duplicateShare >= 0.45 && hubRun.duplicateShare <= 0.5,
    `${hubRun.requests} requests for ${hubRun.distinctIds} ids`);

  context.progress("duplicate storm: baseline");
  const baseline = await startBaselineServer(context);
  const baselineLedger = new IngestLedger();
  const baselinePrefix = `dup-${runId()}`;
  const baselineSource = postbackSource({ apiKey: "-", secret: "-", idPrefix: baselinePrefix, clickIds: tenant.clickIds, duplicates: true });
  const baselineRun = await stormSide(context, baseline.pid, baseline.url, baselineSource, baselineLedger);
  await settle(baseline.url, baselineSource, baselineLedger);
  const baselineStored = await countBaseline(baseline.databaseUrl, baselinePrefix);
  checkLedger(context, "duplicate storm (baseline)", baselineLedger, baselineStored);
  await baseline.stop();

  return {
    hub: { ...hubRun, outcomes: hubLedger.outcomes, stored: hubCounts.conversions, peakRss },
    baseline: { ...baselineRun, outcomes: baselineLedger.outcomes, stored: baselineStored },
    saturationRatio: ratio(hubRun.saturation.acceptedPerSecond, baselineRun.saturation.acceptedPerSecond),
  };
}
