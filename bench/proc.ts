import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

/**
 * What /proc says about the processes under test (Linux).
 *
 * Peak resident memory of another process, from /proc (Linux). The kernel keeps the
 * peak (VmHWM); writing 5 to clear_refs resets it, so each phase gets its own peak.
 * Where that is not allowed, a 100 ms sampler of VmRSS stands in (it can miss a
 * short spike, which the result says).
 */
const SAMPLE_INTERVAL_MS = 100;

function statusKb(pid: number, field: "VmRSS" | "VmHWM"): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

export interface PeakRss {
  peakMb: number | null;
  method: "VmHWM" | "sampled VmRSS" | "unavailable";
}

export interface PeakRssWatch {
  stop(): PeakRss;
}

export function watchPeakRss(pid: number): PeakRssWatch {
  const hwmReset = resetPeak(pid);
  let sampledMaxKb = statusKb(pid, "VmRSS") ?? 0;
  const timer = setInterval(() => {
    sampledMaxKb = Math.max(sampledMaxKb, statusKb(pid, "VmRSS") ?? 0);
  }, SAMPLE_INTERVAL_MS);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      sampledMaxKb = Math.max(sampledMaxKb, statusKb(pid, "VmRSS") ?? 0);
      const hwmKb = hwmReset ? statusKb(pid, "VmHWM") : null;
      const toMb = (kb: number) => Math.round(kb / 1024);
      if (hwmKb !== null) return { peakMb: toMb(Math.max(hwmKb, sampledMaxKb)), method: "VmHWM" };
      if (sampledMaxKb > 0) return { peakMb: toMb(sampledMaxKb), method: "sampled VmRSS" };
      return { peakMb: null, method: "unavailable" };
    },
  };
}

export function currentRssMb(pid: number): number | null {
  const kb = statusKb(pid, "VmRSS");
  return kb === null ? null : Math.round(kb / 1024);
}

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}

let ticksPerSecond: number | undefined;

/**
 * CPU time (user + system) another process has used so far, in ms, from /proc/<pid>/stat.
 * Divided by the work done in a window it gives CPU per operation: a figure that, unlike
 * throughput, hardly moves when other work competes for the cores.
 */
export function processCpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    ticksPerSecond ??= clockTicksPerSecond();
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return null;
  }
}

/** CPU ms per operation between two readings, or null where /proc is not readable. */
export function cpuPerOperation(before: number | null, after: number | null, operations: number): number | null {
  if (before === null || after === null || operations <= 0) return null;
  return Number(((after - before) / operations).toFixed(3));
}
