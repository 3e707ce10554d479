import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHub, type TestHub } from "../helpers/hub";
import { getFrom, openRaw, type RawConnection } from "../helpers/raw-client";
import { waitFor } from "../helpers/wait-for";

/**
 * The per-IP connection cap, with three loopback addresses as three clients: 127.0.0.1 and
 * 127.0.0.2 are ordinary clients, 127.0.0.3 is configured as a trusted reverse proxy.
 */

const CAP = 3;
const CLIENT = "127.0.0.1";
const OTHER_CLIENT = "127.0.0.2";
const PROXY = "127.0.0.3";

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ env: { HTTP_MAX_CONNECTIONS_PER_IP: String(CAP), TRUST_PROXY: PROXY } });
});
afterAll(async () => {
  await hub?.stop();
});

/** Read from the other client's address: this file never leaves a pooled connection from 127.0.0.1 behind. */
async function refusedConnections(): Promise<number> {
  const answer = await getFrom(`${hub.urls.http}/metrics`, OTHER_CLIENT);
  if (!("body" in answer)) throw new Error(`metrics: ${answer.error}`);
  const match = /^hub_http_connections_refused_total (\d+)/m.exec(answer.body);
  return match ? Number(match[1]) : 0;
}

const statusFrom = async (localAddress: string) => {
  const answer = await getFrom(`${hub.urls.http}/healthz`, localAddress);
  return "status" in answer ? answer.status : answer.error;
};

describe("HTTP_MAX_CONNECTIONS_PER_IP", () => {
  it("closes connections past the cap at once, while other addresses are served; a freed slot is usable again", async () => {
    const refusedBefore = await refusedConnections();
    const held: RawConnection[] = [];
    for (let n = 0; n < CAP; n += 1) {
      const connection = await openRaw(hub.urls.http, { localAddress: CLIENT });
      connection.write("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n"); // started, never finished
      held.push(connection);
    }

    const extra = await openRaw(hub.urls.http, { localAddress: CLIENT });
    extra.write("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    const refused = await extra.closed;
    expect(refused.received).toBe("");
    // At once: long before the 5 s headers timeout would have closed it.
    expect(refused.afterMs).toBeLessThan(2_500);
    expect(await refusedConnections()).toBe(refusedBefore + 1);

    expect(await statusFrom(OTHER_CLIENT)).toBe(200);
    for (const connection of held) expect(connection.socket.destroyed).toBe(false);

    held.shift()!.destroy();
    await waitFor(async () => (await statusFrom(CLIENT)) === 200, { what: "the freed slot to admit a new connection" });
    for (const connection of held) connection.destroy();
  });

  it("does not cap a trusted proxy, which carries many clients' connections", async () => {
    const through = await Promise.all(Array.from({ length: CAP * 3 }, () => openRaw(hub.urls.http, { localAddress: PROXY })));
    for (const connection of through) connection.write("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n");
    const answers = await Promise.all(through.map((connection) => connection.closed));
    for (const answer of answers) expect(answer.received).toMatch(/^HTTP\/1\.1 200 /);
  });
});
