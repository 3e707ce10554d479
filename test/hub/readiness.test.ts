import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { startTestHub, type TestHub } from "../helpers/hub";
import { TcpProxy } from "../helpers/tcp-proxy";
import { waitFor } from "../helpers/wait-for";

let db: TestDatabase;
let proxy: TcpProxy;
let hub: TestHub;

beforeAll(async () => {
  db = await createTestDatabase();
  proxy = TcpProxy.forDatabase(db.url);
  await proxy.up();
  hub = await startTestHub({ db: { ...db, url: proxy.urlFor(db.url) } });
});
afterAll(async () => {
  await hub?.stop();
  await proxy?.down();
  await db?.drop();
});

async function readiness(): Promise<{ status: number; body: { status: string; checks: Array<{ name: string; ok: boolean }> } }> {
  const response = await fetch(`${hub.urls.http}/readyz`);
  return { status: response.status, body: (await response.json()) as never };
}

describe("/healthz and /readyz", () => {
  it("is ready with database, migrations, live listener and worker checks", async () => {
    const { status, body } = await readiness();
    expect(status).toBe(200);
    expect(body.checks.map((check) => [check.name, check.ok])).toEqual([
      ["database", true],
      ["migrations", true],
      ["live", true],
      ["worker", true],
    ]);
  });

  it("goes unready while the database is unreachable, and ready again when it returns", async () => {
    await proxy.down();
    const unready = await waitFor(async () => {
      const result = await readiness();
      return result.status === 503 ? result : undefined;
    }, { what: "/readyz to report 503" });
    expect(unready.body.status).toBe("unready");
    expect(unready.body.checks.find((check) => check.name === "database")?.ok).toBe(false);
    // The process itself is still alive.
    expect((await fetch(`${hub.urls.http}/healthz`)).status).toBe(200);

    await proxy.up();
    await waitFor(async () => (await readiness()).status === 200, { timeoutMs: 20_000, what: "/readyz to recover" });
  });

  it("serves Prometheus metrics", async () => {
    const response = await fetch(`${hub.urls.http}/metrics`);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await response.text()).toMatch(/^process_cpu_user_seconds_total \d/m);
  });
});
