import os from "node:os";
import { readFileSync } from "node:fs";

/** What the figures were measured on: they mean nothing without it. */
export interface MachineDescription {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  postgresEmbedded: boolean;
  /** Load average when the run started: other work on the machine skews everything. */
  loadAverageAtStart: number[];
}

function cpuModel(): string {
  const fromNode = os.cpus()[0]?.model?.trim();
  if (fromNode) return fromNode;
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function describeMachine(postgresVersion: string, postgresEmbedded: boolean): MachineDescription {
  return {
    cpuModel: cpuModel(),
    cores: os.availableParallelism(),
    memoryGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: postgresVersion,
    postgresEmbedded,
    loadAverageAtStart: os.loadavg().map((value) => Number(value.toFixed(2))),
  };
}
