import { hostname } from "node:os";
import type { ProcessRef } from "./topics";
import { HUB_VERSION } from "../common/version";

/** Which hub process this is, as live messages name it (the probe shows who answered). */
export function thisProcess(role: string): ProcessRef {
  return { role, hostname: hostname(), pid: process.pid, version: HUB_VERSION };
}
