import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/common/logger";
import { LiveListener } from "../../src/live/live-listener";
import { LocalPubSub } from "../../src/live/local-pubsub";
import { LivePayloadTooLargeError, MAX_LIVE_MESSAGE_BYTES, notifyLive, notifyLiveMany } from "../../src/live/notify";
import { LIVE_RESYNC, type LiveTopic } from "../../src/live/topics";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { startTestHub, type TestHub } from "../helpers/hub";
import { TcpProxy } from "../helpers/tcp-proxy";
import { insertApiKey, insertOperator } from "../helpers/tenants";
import { waitFor } from "../helpers/wait-for";
import { ApiKeyRole } from "../../src/common/viewer";

/** A topic no feature uses, so the test's messages reach only the test's listener. */
const TEST_TOPIC = "test.bridge" as LiveTopic;

function collect(pubSub: LocalPubSub, topic: string): unknown[] {
  const seen: unknown[] = [];
  pubSub.listen(topic, (payload) => seen.push(payload));
  return seen;
}

async function listenerBackendPid(db: TestDatabase): Promise<number | undefined> {
  const { rows } = await db.query<{ pid: number }>(
    "select pid from pg_stat_activity where datname = current_database() and application_name like 'affiliate-hub:%:live:%'",
  );
  return rows.length === 1 ? rows[0]!.pid : undefined;
}

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub?.stop();
});

describe("notifyLive", () => {
  it("sends on commit only: a rolled-back transaction's message never arrives", async () => {
    const seen = collect(hub.hub.pubSub, TEST_TOPIC);
    const em = hub.hub.orm.em.fork();
    await expect(
      em.transactional(async (tx) => {
        await notifyLive(tx, TEST_TOPIC, { marker: "rolled-back" } as never);
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    await em.transactional(async (tx) => {
      await notifyLive(tx, TEST_TOPIC, { marker: "committed" } as never);
      // Not yet: NOTIFY is held until commit.
      expect(seen).toEqual([]);
    });
    await waitFor(() => seen.length > 0, { what: "the committed message" });
    // One listening connection receives messages in commit order: the rolled-back one
    // would have arrived first.
    expect(seen).toEqual([{ marker: "committed" }]);
  });

  it("carries a message of exactly the NOTIFY limit and refuses a larger one before touching the database", async () => {
    const seen = collect(hub.hub.pubSub, TEST_TOPIC);
    const envelope = Buffer.byteLength(JSON.stringify({ topic: TEST_TOPIC, payload: { pad: "" } }));
    const pad = "x".repeat(MAX_LIVE_MESSAGE_BYTES - envelope);
    const em = hub.hub.orm.em.fork();
    await notifyLive(em, TEST_TOPIC, { pad } as never);
    await waitFor(() => seen.length === 1, { what: "the largest allowed message" });
    expect((seen[0] as { pad: string }).pad).toHaveLength(pad.length);

    await expect(notifyLive(em, TEST_TOPIC, { pad: `${pad}x` } as never)).rejects.toBeInstanceOf(LivePayloadTooLargeError);
    // The refusal happened in the hub, not as a Postgres error that would abort a transaction.
    await em.transactional(async (tx) => {
      await expect(notifyLive(tx, TEST_TOPIC, { pad: `${pad}x` } as never)).rejects.toBeInstanceOf(LivePayloadTooLargeError);
      await notifyLive(tx, TEST_TOPIC, { marker: "after refusal" } as never);
    });
    await waitFor(() => seen.length === 2, { what: "the message sent after a refusal" });
  });

  it("sends a batch in one statement, in order", async () => {
    const seen = collect(hub.hub.pubSub, TEST_TOPIC);
    const em = hub.hub.orm.em.fork();
    await notifyLiveMany(em, TEST_TOPIC, Array.from({ length: 50 }, (_, n) => ({ n })) as never[]);
    await waitFor(() => seen.length === 50, { what: "the batch" });
    expect(seen.map((payload) => (payload as { n: number }).n)).toEqual(Array.from({ length: 50 }, (_, n) => n));
  });
});

describe("hub_live_notify() for feature tables", () => {
  it("sends picked columns per row, an empty payload per statement, and only on commit", async () => {
    const seen = collect(hub.hub.pubSub, TEST_TOPIC);
    await hub.db.query("create table live_fixture (id int primary key, operator_id text, secret text)");
    await hub.db.query(
      `create trigger live_fixture_row after insert on live_fixture for each row
       execute function hub_live_notify('${TEST_TOPIC}', 'id', 'operatorId:operator_id')`,
    );
    await hub.db.query(`create trigger live_fixture_statement after delete on live_fixture for each statement execute function hub_live_notify('${TEST_TOPIC}')`);
    await hub.db.query("begin; insert into live_fixture values (1, 'op-1', 'not sent'); rollback");
    await hub.db.query("insert into live_fixture values (2, 'op-2', 'not sent'), (3, null, 'not sent')");
    await hub.db.query("delete from live_fixture");
    await waitFor(() => seen.length >= 3, { what: "the trigger's messages" });
    expect(seen).toEqual([{ id: 2, operatorId: "op-2" }, { id: 3, operatorId: null }, {}]);
  });
});

describe("the api_key trigger", () => {
  it("announces a revocation and a deletion, and nothing for other updates", async () => {
    const seen = collect(hub.hub.pubSub, "auth.api_key_revoked");
    const em = hub.hub.orm.em.fork();
    const operator = await insertOperator(em);
    const { key: revoked } = await insertApiKey(em, { role: ApiKeyRole.OPERATOR, operatorId: operator.id });
    const { key: deleted } = await insertApiKey(em, { role: ApiKeyRole.OPERATOR, operatorId: operator.id });
    await hub.db.query("update api_key set name = 'renamed' where id = $1", [revoked.id]);
    await hub.db.query("update api_key set revoked_at = now() where id = $1", [revoked.id]);
    await hub.db.query("update api_key set revoked_at = now() where id = $1", [revoked.id]); // already revoked
    await hub.db.query("delete from api_key where id = $1", [deleted.id]);
    await waitFor(() => seen.length >= 2, { what: "revocation messages" });
    // A marker after them proves nothing else was queued before it.
    await notifyLive(em, "auth.api_key_revoked", { apiKeyId: "marker" });
    await waitFor(() => seen.length >= 3, { what: "the marker" });
    expect(seen).toEqual([{ apiKeyId: revoked.id }, { apiKeyId: deleted.id }, { apiKeyId: "marker" }]);
  });
});

describe("the listener", () => {
  it("reconnects after its backend is terminated, resyncs, and keeps delivering", async () => {
    const resyncs = collect(hub.hub.pubSub, LIVE_RESYNC);
    const seen = collect(hub.hub.pubSub, TEST_TOPIC);
    const pid = await waitFor(() => listenerBackendPid(hub.db), { what: "the listener's backend" });
    await hub.db.query("select pg_terminate_backend($1)", [pid]);
    await waitFor(() => resyncs.length === 1, { what: "a resync after the reconnect" });
    const newPid = await waitFor(() => listenerBackendPid(hub.db), { what: "the new listener backend" });
    expect(newPid).not.toBe(pid);
    await notifyLive(hub.hub.orm.em.fork(), TEST_TOPIC, { marker: "after reconnect" } as never);
    await waitFor(() => seen.length === 1, { what: "a message after the reconnect" });

    const ready = await fetch(`${hub.urls.http}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${hub.urls.http}/metrics`)).text();
    expect(metrics).toMatch(/^hub_live_listener_reconnects_total 1$/m);
    expect(metrics).toMatch(/^hub_live_listener_connected 1$/m);
  });

  it("behind a cut connection: keeps retrying, then reconnects and resyncs (what was sent meanwhile is lost)", async () => {
    const db = await createTestDatabase();
    const proxy = TcpProxy.forDatabase(db.url);
    await proxy.up();
    const pubSub = new LocalPubSub();
    const listener = new LiveListener({
      url: proxy.urlFor(db.url),
      applicationName: "affiliate-hub:test:live:proxy",
      pubSub,
      log: createLogger("silent"),
      backoff: { baseMs: 20, maxMs: 200 },
    });
    try {
      await listener.start();
      const resyncs = collect(pubSub, LIVE_RESYNC);
      const seen = collect(pubSub, TEST_TOPIC);
      const send = (marker: string) => db.query("select pg_notify('affiliate_hub_live', $1)", [JSON.stringify({ topic: TEST_TOPIC, payload: { marker } })]);

      await proxy.down();
      await waitFor(() => !listener.status().listening, { what: "the listener to notice the cut" });
      await send("while down");
      await proxy.up();
      await waitFor(() => resyncs.length === 1, { what: "the resync", timeoutMs: 20_000 });
      expect(listener.status()).toMatchObject({ listening: true, reconnects: 1 });
      await send("after");
      await waitFor(() => seen.length === 1, { what: "the message after reconnecting" });
      expect(seen).toEqual([{ marker: "after" }]);
    } finally {
      await listener.close();
      await proxy.down();
      await db.drop();
    }
  });

  it("detects a connection that hangs without an error (half-open) with its health check", async () => {
    const db = await createTestDatabase();
    const proxy = TcpProxy.forDatabase(db.url);
    await proxy.up();
    const pubSub = new LocalPubSub();
    const listener = new LiveListener({
      url: proxy.urlFor(db.url),
      applicationName: "affiliate-hub:test:live:hang",
      pubSub,
      log: createLogger("silent"),
      backoff: { baseMs: 20, maxMs: 200 },
      probeIntervalMs: 100,
      probeTimeoutMs: 300,
    });
    try {
      await listener.start();
      const resyncs = collect(pubSub, LIVE_RESYNC);
      proxy.pause();
      await waitFor(() => !listener.status().listening, { what: "the health check to fail", timeoutMs: 20_000 });
      proxy.resume();
      await waitFor(() => resyncs.length >= 1, { what: "the reconnect", timeoutMs: 20_000 });
      expect(listener.status().listening).toBe(true);
    } finally {
      await listener.close();
      await proxy.down();
      await db.drop();
    }
  });
});
