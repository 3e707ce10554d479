import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { startTestHub, type TestHub } from "../helpers/hub";
import { TcpProxy } from "../helpers/tcp-proxy";
import { waitFor } from "../helpers/wait-for";

/**
 * The exact failure behind the crash: a job finishes while the database is unreachable,
 * so graphile-worker cannot record its completion, shuts its pool down and leaves the job
 * locked (for four hours, by its own rules). The hub must restart the worker once the
 * database is back and hand that job out again.
 */

let db: TestDatabase;
let proxy: TcpProxy;
let hub: TestHub;
let runs = 0;
let finishFirstRun: (() => void) | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  proxy = TcpProxy.forDatabase(db.url);
  await proxy.up();
  hub = await startTestHub({
    db: { ...db, url: proxy.urlFor(db.url) },
    extraTasks: {
      test__hold: async () => {
        runs++;
        if (runs === 1) await new Promise<void>((resolve) => (finishFirstRun = resolve));
      },
    },
  });
});
afterAll(async () => {
  await hub?.stop();
  await proxy?.down();
  await db?.drop();
});

async function readiness(): Promise<{ status: number; failing: string[] }> {
  const response = await fetch(`${hub.urls.http}/readyz`);
  const body = (await response.json()) as { checks: Array<{ name: string; ok: boolean }> };
  return { status: response.status, failing: body.checks.filter((check) => !check.ok).map((check) => check.name) };
}

async function metric(name: string): Promise<number> {
  const line = (await hub.hub.metrics.getSingleMetricAsString(name)).split("\n").find((entry) => entry.startsWith(`${name} `));
  return Number(line?.split(" ")[1]);
}

describe("the job worker after a lost database", () => {
  it("restarts when the database is back and runs again the job whose completion it could not record", async () => {
    // Straight into the real database: the proxy is the hub's way in, not ours.
    await db.query("select graphile_worker.add_job('test__hold', '{}'::json)");
    await waitFor(() => finishFirstRun, { what: "the job to start" });

    await proxy.down();
    finishFirstRun!();
    await waitFor(async () => (await readiness()).failing.includes("worker"), { timeoutMs: 20_000, what: "the worker to stop" });
    expect(await metric("hub_worker_running")).toBe(0);
    const { rows: held } = await db.query<{ locked_by: string | null }>("select locked_by from graphile_worker._private_jobs");
    expect(held).toHaveLength(1);
    expect(held[0]!.locked_by).not.toBeNull();

    await proxy.up();
    const back = Date.now();
    await waitFor(async () => (await readiness()).status === 200, { timeoutMs: 20_000, intervalMs: 50, what: "/readyz to recover" });
    const readyAfterMs = Date.now() - back;
    await waitFor(async () => runs === 2 && (await db.query("select 1 from graphile_worker._private_jobs")).rowCount === 0, {
      timeoutMs: 20_000,
      what: "the job to run again and complete",
    });
    expect(await metric("hub_worker_restarts_total")).toBe(1);
    expect(await metric("hub_worker_running")).toBe(1);
    expect(readyAfterMs).toBeLessThan(10_000);
  });
});
