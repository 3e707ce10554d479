import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * Where the time goes in a `--cpu-prof` profile (`npm run bench -- --profile` writes the
 * hub's into bench/results/profiles/): self time by function and by package, so a
 * missed target can be explained. Usage: node dist/bench/profile-summary.js <file> [top]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function packageOf(url: string): string {
  // Native code (socket writes, crypto, the parser) has no URL; on loopback a socket write
  // also runs the receiving side's network stack and can be where the process is descheduled.
  if (!url) return "(native)";
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith("node:")) return "node core";
  const dist = url.indexOf("/dist/");
  return dist >= 0 ? `hub ${path.dirname(url.slice(dist + "/dist/".length))}` : url;
}

export function summarize(profile: CpuProfile, top: number): string {
  const selfMs = new Map<number, number>();
  profile.samples.forEach((nodeId, i) => selfMs.set(nodeId, (selfMs.get(nodeId) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const ms = selfMs.get(node.id) ?? 0;
    total += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") {
      idle += ms;
      continue;
    }
    if (functionName === "(program)" || functionName === "(garbage collector)") {
      byPackage.set(functionName, (byPackage.get(functionName) ?? 0) + ms);
      continue;
    }
    const name = `${functionName || "(anonymous)"} ${url ? `${url.replace(/^.*\/(node_modules|dist)\//, "")}:${lineNumber + 1}` : ""}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    const pkg = packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
  }
  const busy = total - idle;
  const rows = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => `${ms.toFixed(0).padStart(8)} ms ${((ms / Math.max(1, busy)) * 100).toFixed(1).padStart(5)}%  ${name}`);
  return [
    `profiled ${(total / 1000).toFixed(1)} s, busy ${(busy / 1000).toFixed(1)} s (percentages of busy time)`,
    "",
    "self time by package:",
    ...rows(byPackage),
    "",
    "self time by function:",
    ...rows(byFunction),
  ].join("\n");
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write("usage: node dist/bench/profile-summary.js <file.cpuprofile> [top]\n");
    process.exit(2);
  }
  process.stdout.write(`${summarize(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, Number(top ?? 25))}\n`);
}
