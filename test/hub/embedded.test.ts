import { chmod, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphql } from "../helpers/graphql";
import { spawnHub, waitUntilListening } from "../helpers/hub-process";

let dataDir: string;
beforeAll(async () => {
  const parent = await mkdtemp(path.join(tmpdir(), "hub-embedded-"));
  await chmod(parent, 0o755);
  dataDir = path.join(parent, "data");
});
afterAll(async () => {
  await rm(path.dirname(dataDir), { recursive: true, force: true });
});

const GENERATED_KEY = /^\s+(ahk_[\w-]{43})$/m;

describe("embedded Postgres (DATABASE_URL unset)", () => {
  it("starts, prints the first admin key once, keeps data across a restart, and stops its server", async () => {
    const first = spawnHub({ DATA_DIR: dataDir });
    const urls = await waitUntilListening(first, 120_000);
    const listening = first.logs().find((line) => line.msg === "affiliate-hub listening")!;
    expect(listening.database).toBe(`embedded Postgres, data in ${path.join(dataDir, "postgres")}`);
    expect(listening.graphqlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(listening.websocketUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const adminKey = GENERATED_KEY.exec(first.stdout())?.[1];
    expect(adminKey).toBeDefined();
    // The secret goes to the terminal once, never into a structured log line.
    expect(first.logs().some((line) => JSON.stringify(line).includes(adminKey!))).toBe(false);

    const query = "{ hub { role } }";
    expect((await graphql(urls.graphql, query, { apiKey: adminKey })).errors).toBeUndefined();
    expect(await first.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    // Stopped with the hub: nothing listens on the embedded server's data dir any more.
    await expect(stat(path.join(dataDir, "postgres", "postmaster.pid"))).rejects.toThrow();

    const second = spawnHub({ DATA_DIR: dataDir });
    const secondUrls = await waitUntilListening(second, 120_000);
    try {
      expect(GENERATED_KEY.test(second.stdout())).toBe(false);
      const result = await graphql<{ hub: { role: string } }>(secondUrls.graphql, query, { apiKey: adminKey });
      expect(result.errors).toBeUndefined();
      expect(result.data?.hub.role).toBe("all");
    } finally {
      expect(await second.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    }
  });
});
