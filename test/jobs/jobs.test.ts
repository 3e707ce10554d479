import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueJob } from "../../src/jobs/enqueue";
import { startTestHub, type TestHub } from "../helpers/hub";
import { waitFor } from "../helpers/wait-for";

const ran: string[] = [];
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub({
    extraTasks: {
      test__record: async (payload) => {
        ran.push((payload as { marker: string }).marker);
      },
    },
  });
});
afterAll(async () => {
  await hub?.stop();
});

describe("jobs enqueued in a transaction", () => {
  it("never run when the transaction rolls back, and run when it commits", async () => {
    const em = hub.hub.orm.em.fork();
    await expect(
      em.transactional(async (tx) => {
        await enqueueJob(tx, "test__record", { marker: "rolled-back" });
        throw new Error("abort the unit of work");
      }),
    ).rejects.toThrow("abort the unit of work");

    await em.transactional(async (tx) => {
      await enqueueJob(tx, "test__record", { marker: "committed" });
    });

    await waitFor(() => ran.includes("committed"), { what: "the committed job to run" });
    // The committed job was enqueued after the rolled-back one; with it done and the
    // queue empty, the rolled-back job provably does not exist.
    const { rows } = await hub.db.query("select count(*)::int as n from graphile_worker.jobs");
    expect(rows[0]!.n).toBe(0);
    expect(ran).toEqual(["committed"]);
  });

  it("deduplicates by job key", async () => {
    const em = hub.hub.orm.em.fork();
    await em.transactional(async (tx) => {
      const runAt = new Date(Date.now() + 60_000);
      await enqueueJob(tx, "test__record", { marker: "keyed-1" }, { jobKey: "same", runAt });
      await enqueueJob(tx, "test__record", { marker: "keyed-2" }, { jobKey: "same", runAt });
    });
    const { rows } = await hub.db.query("select payload from graphile_worker._private_jobs where key = 'same'");
    expect(rows).toEqual([{ payload: { marker: "keyed-2" } }]);
  });
});
