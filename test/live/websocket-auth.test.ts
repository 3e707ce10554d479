import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphqlOk, subscribe, wsClient } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { closeEventOf, RawGraphqlSocket } from "../helpers/live";
import { insertApiKey, insertOperator } from "../helpers/tenants";
import { TcpProxy } from "../helpers/tcp-proxy";
import { createTestDatabase } from "../helpers/database";
import { waitFor } from "../helpers/wait-for";
import { ApiKeyRole } from "../../src/common/viewer";

const HEARTBEAT = "subscription { heartbeat(intervalMs: 100) { role } }";
const PROBES = "subscription { liveProbes { probeId } }";

let hub: TestHub;
let operatorKey: string;
beforeAll(async () => {
  hub = await startTestHub({ env: { WS_MAX_SUBSCRIPTIONS: "3" } });
  const operator = await insertOperator(hub.hub.orm.em.fork());
  ({ secret: operatorKey } = await insertApiKey(hub.hub.orm.em.fork(), { role: ApiKeyRole.OPERATOR, operatorId: operator.id }));
});
afterAll(async () => {
  await hub?.stop();
});

async function refusal(payload: unknown) {
  const socket = await RawGraphqlSocket.connect(hub.websocketUrl, payload);
  expect(socket.acknowledged).toBe(false);
  return socket.closed;
}

describe("graphql-ws connection_init authentication", () => {
  it("closes 4401 without a key, or with an unknown one, saying which", async () => {
    expect(await refusal({})).toEqual({ code: 4401, reason: "MISSING_API_KEY: Send { apiKey } in the connection_init payload" });
    expect(await refusal(undefined)).toMatchObject({ code: 4401 });
    expect(await refusal({ apiKey: "ahk_nope" })).toEqual({ code: 4401, reason: "INVALID_API_KEY: The API key is unknown or revoked" });
  });

  it("closes 4400 for a malformed key", async () => {
    expect(await refusal({ apiKey: 42 })).toEqual({ code: 4400, reason: "BAD_REQUEST: connection_init apiKey must be a string" });
  });

  it("closes 4401 for a revoked key", async () => {
    const { secret, key } = await insertApiKey(hub.hub.orm.em.fork(), { role: ApiKeyRole.ADMIN });
    await hub.db.query("update api_key set revoked_at = now() where id = $1", [key.id]);
    expect(await refusal({ apiKey: secret })).toMatchObject({ code: 4401, reason: expect.stringMatching(/^INVALID_API_KEY/) });
  });

  it("closes 4403 for a valid key outside its IP allowlist, and accepts it inside", async () => {
    const em = hub.hub.orm.em.fork();
    const { secret: elsewhere } = await insertApiKey(em, { role: ApiKeyRole.ADMIN, allowedIps: ["10.0.0.0/8", "2001:db8::/32"] });
    expect(await refusal({ apiKey: elsewhere })).toEqual({ code: 4403, reason: "IP_NOT_ALLOWED: This API key may not connect from this address" });

    const { secret: local } = await insertApiKey(em, { role: ApiKeyRole.ADMIN, allowedIps: ["127.0.0.0/8", "::1"] });
    const socket = await RawGraphqlSocket.connect(hub.websocketUrl, { apiKey: local });
    expect(socket.acknowledged).toBe(true);
    socket.ws.close();
  });

  it("applies the role rules of queries to each subscription, and the connection stays usable", async () => {
    const client = wsClient(hub.websocketUrl, operatorKey);
    try {
      // A refused subscription is one result with errors, then complete (graphql-ws's contract).
      const refused = subscribe(client, "subscription { jobQueueChanged { due } }");
      await waitFor(() => refused.completed, { what: "the refusal" });
      expect(refused.events).toHaveLength(1);
      expect(refused.events[0]).toMatchObject({ errors: [{ extensions: { code: "FORBIDDEN" } }] });
      const allowed = subscribe(client, HEARTBEAT);
      await allowed.waitFor((events) => events.length >= 1);
      allowed.dispose();
    } finally {
      await client.dispose();
    }
  });

  it("refuses operations past WS_MAX_SUBSCRIPTIONS on one connection", async () => {
    const client = wsClient(hub.websocketUrl, hub.adminKey);
    const probes = () => hub.hub.pubSub.subscriberCount("live.probe");
    try {
      const running = [subscribe(client, PROBES), subscribe(client, PROBES), subscribe(client, PROBES)];
      await waitFor(() => probes() === 3, { what: "three subscriptions on the server" });
      const extra = subscribe(client, PROBES);
      await waitFor(() => extra.error, { what: "the refusal" });
      expect((extra.error as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code).toBe("TOO_MANY_SUBSCRIPTIONS");
      running[0]!.dispose();
      await waitFor(() => probes() === 2, { what: "the completed subscription to be gone" });
      subscribe(client, PROBES);
      await waitFor(() => probes() === 3, { what: "a replacement to be accepted" });
    } finally {
      await client.dispose();
    }
  });
});

describe("revocation while connected", () => {
  it("ends the key's connections promptly with 4401 and leaves other keys' connections alone", async () => {
    const em = hub.hub.orm.em.fork();
    const operator = await insertOperator(em);
    const { secret, key } = await insertApiKey(em, { role: ApiKeyRole.OPERATOR, operatorId: operator.id });
    let onClosed: (event: unknown) => void = () => {};
    const closed = closeEventOf((listener) => (onClosed = listener));
    const doomed = wsClient(hub.websocketUrl, secret, { on: { closed: (event) => onClosed(event) } });
    const bystander = wsClient(hub.websocketUrl, operatorKey);
    try {
      const doomedSub = subscribe(doomed, HEARTBEAT);
      const bystanderSub = subscribe(bystander, HEARTBEAT);
      await doomedSub.waitFor((events) => events.length >= 1);
      await bystanderSub.waitFor((events) => events.length >= 1);

      await hub.db.query("update api_key set revoked_at = now() where id = $1", [key.id]);
      expect(await closed).toEqual({ code: 4401, reason: "API_KEY_REVOKED: The API key was revoked" });
      await waitFor(() => doomedSub.error, { what: "the subscription to end" });

      const seen = bystanderSub.events.length;
      await bystanderSub.waitFor((events) => events.length > seen + 2);
      // The revoked key can no longer reconnect either.
      expect(await refusal({ apiKey: secret })).toMatchObject({ code: 4401 });
    } finally {
      await doomed.dispose();
      await bystander.dispose();
    }
  });

  it("still ends them when the revocation happened while the listener was disconnected", async () => {
    // A hub whose database connections go through a proxy the test can cut; the
    // revocation is written directly, so its NOTIFY is sent while nobody listens.
    const db = await createTestDatabase();
    const proxy = TcpProxy.forDatabase(db.url);
    await proxy.up();
    const cutOff = await startTestHub({ db, env: { DATABASE_URL: proxy.urlFor(db.url), HUB_ROLE: "api" } });
    try {
      const { secret, key } = await insertApiKey(cutOff.hub.orm.em.fork(), { role: ApiKeyRole.ADMIN });
      await graphqlOk(cutOff.graphqlUrl, "{ hub { role } }", { apiKey: secret });
      let onClosed: (event: unknown) => void = () => {};
      const closed = closeEventOf((listener) => (onClosed = listener));
      const client = wsClient(cutOff.websocketUrl, secret, { on: { closed: (event) => onClosed(event) } });
      const sub = subscribe(client, HEARTBEAT);
      await sub.waitFor((events) => events.length >= 1);

      await proxy.down();
      await db.query("update api_key set revoked_at = now() where id = $1", [key.id]);
      await proxy.up();
      expect(await closed).toEqual({ code: 4401, reason: "API_KEY_REVOKED: The API key was revoked" });
      await client.dispose();
    } finally {
      await cutOff.stop();
      await proxy.down();
      await db.drop();
    }
  });
});
