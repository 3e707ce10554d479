import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrl } from "../helpers/database";
import { graphql } from "../helpers/graphql";
import { TEST_ENCRYPTION_KEY } from "../helpers/hub";
import { spawnHub, waitUntilListening, type HubProcess } from "../helpers/hub-process";

// An empty database, not the migrated template: the processes must migrate it themselves.
const name = `hub_roles_${randomBytes(5).toString("hex")}`;
const admin = () => new pg.Client({ connectionString: databaseUrl("postgres") });
const processes: HubProcess[] = [];

beforeAll(async () => {
  const client = admin();
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
});
afterAll(async () => {
  await Promise.all(processes.map((hub) => hub.stop()));
  const client = admin();
  await client.connect();
  await client.query(`drop database if exists ${name} with (force)`);
  await client.end();
});

const GENERATED_KEY = /^\s+(ahk_[\w-]{43})$/m;

describe("roles against one database", () => {
  it("two api processes and a worker start together, migrate once and create one first admin key", async () => {
    const env = { DATABASE_URL: databaseUrl(name), HUB_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY };
    processes.push(spawnHub({ ...env, HUB_ROLE: "api" }), spawnHub({ ...env, HUB_ROLE: "api" }), spawnHub({ ...env, HUB_ROLE: "worker" }));
    const [apiA, apiB, worker] = processes as [HubProcess, HubProcess, HubProcess];
    const urls = await Promise.all(processes.map((hub) => waitUntilListening(hub)));

    const printed = processes.map((hub) => GENERATED_KEY.exec(hub.stdout())?.[1]).filter(Boolean);
    expect(printed).toHaveLength(1);
    const adminKey = printed[0]!;

    for (const api of [apiA, apiB]) {
      const result = await graphql<{ hub: { role: string } }>(api.urls!.graphql, "{ hub { role } }", { apiKey: adminKey });
      expect(result.data?.hub.role).toBe("api");
      const ready = (await (await fetch(api.urls!.health.replace("healthz", "readyz"))).json()) as { checks: Array<{ name: string }> };
      expect(ready.checks.map((check) => check.name)).toEqual(["database", "migrations", "live"]);
    }

    const workerBase = urls[2]!.health.replace("/healthz", "");
    expect((await fetch(`${workerBase}/graphql`, { method: "POST" })).status).toBe(404);
    const workerReady = await fetch(`${workerBase}/readyz`);
    expect(workerReady.status).toBe(200);
    expect(((await workerReady.json()) as { checks: Array<{ name: string }> }).checks.map((check) => check.name)).toContain("worker");
    expect(worker.logs().some((line) => line.role === "worker" && line.msg === "affiliate-hub listening")).toBe(true);

    for (const hub of processes) {
      expect(hub.logs().find((line) => line.msg === "affiliate-hub listening")?.database).toBe("DATABASE_URL");
    }
    const check = new pg.Client({ connectionString: databaseUrl(name) });
    await check.connect();
    const { rows } = await check.query("select count(*)::int as keys from api_key");
    await check.end();
    expect(rows[0].keys).toBe(1);
  });
});
