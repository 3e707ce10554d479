import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { graphql, subscribe, wsClient } from "../helpers/graphql";
import { generateAdminKey, TEST_ENCRYPTION_KEY } from "../helpers/hub";
import { spawnHub, waitUntilListening } from "../helpers/hub-process";
import { TcpProxy } from "../helpers/tcp-proxy";
import { waitFor } from "../helpers/wait-for";

let db: TestDatabase;
let proxy: TcpProxy;
beforeAll(async () => {
  db = await createTestDatabase();
  proxy = TcpProxy.forDatabase(db.url);
  await proxy.up();
});
afterAll(async () => {
  await proxy?.down();
  await db?.drop();
});

describe("graceful shutdown on SIGTERM", () => {
  it("finishes the in-flight request, closes WebSockets, and exits 0", async () => {
    const adminKey = generateAdminKey();
    const hub = spawnHub({ DATABASE_URL: proxy.urlFor(db.url), HUB_ADMIN_KEY: adminKey, HUB_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY });
    const urls = await waitUntilListening(hub);

    const client = wsClient(urls.websocket, adminKey);
    const closed = new Promise<number>((resolve) => client.on("closed", (event) => resolve((event as { code: number }).code)));
    const heartbeat = subscribe(client, "subscription { heartbeat(intervalMs: 100) { role } }");
    await heartbeat.waitFor((events) => events.length > 0);

    // Hold the database so the next request is provably in flight when the signal lands.
    proxy.pause();
    const inFlight = graphql<{ hub: { role: string } }>(urls.graphql, "{ hub { role } }", { apiKey: adminKey });
    await waitFor(() => proxy.heldCount() > 0, { what: "the request to reach the database" });
    hub.child.kill("SIGTERM");
    await waitFor(() => hub.logs().some((line) => line.msg === "shutting down"), { what: "shutdown to begin" });
    proxy.resume();

    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.data?.hub.role).toBe("all");
    expect(await closed).toBe(1001);
    expect(answer.headers?.connection).toBe("close");
    expect(await hub.exited).toEqual({ code: 0, signal: null });
    expect(hub.logs().some((line) => line.msg === "stopped")).toBe(true);
    await client.dispose();
  });
});
