import { readFileSync } from "node:fs";
import path from "node:path";

function readVersion(): string {
  // dist/src/system → project root is three levels up; src/system (tests) is two.
  for (const up of ["../../..", "../.."]) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(__dirname, up, "package.json"), "utf8")) as { name?: string; version?: string };
      if (manifest.name === "affiliate-hub" && manifest.version) return manifest.version;
    } catch {
      // try the next candidate
    }
  }
  return "0.0.0";
}

export const HUB_VERSION = readVersion();
