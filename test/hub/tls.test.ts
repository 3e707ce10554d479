import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import https from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subscribe, wsClient } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { openRaw } from "../helpers/raw-client";

let dir: string;
let cert: Buffer;
let hub: TestHub;
let port: number;
/** Also bounds the TLS handshake. */
const HEADERS_TIMEOUT_MS = 2_000;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "hub-tls-"));
  const certFile = path.join(dir, "cert.pem");
  const keyFile = path.join(dir, "key.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-keyout", keyFile, "-out", certFile,
  ], { stdio: "ignore" });
  cert = await readFile(certFile);
  hub = await startTestHub({ env: { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) } });
  port = Number(new URL(hub.urls.http).port);
});
afterAll(async () => {
  await hub?.stop();
  await rm(dir, { recursive: true, force: true });
});

function tlsHandshake(options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca: cert, ...options }, () => {
      const protocol = socket.getProtocol() ?? "unknown";
      socket.end();
      resolve(protocol);
    });
    socket.on("error", reject);
  });
}

describe("native TLS", () => {
  it("announces https and wss URLs", () => {
    expect(hub.urls.http).toMatch(/^https:\/\//);
    expect(hub.urls.ws).toMatch(/^wss:\/\//);
  });

  it("serves a TLS 1.2 client", async () => {
    expect(await tlsHandshake({ minVersion: "TLSv1.2", maxVersion: "TLSv1.2" })).toBe("TLSv1.2");
    const status = await new Promise<number>((resolve, reject) => {
      https.get(`${hub.urls.http}/healthz`, { ca: cert, maxVersion: "TLSv1.2" }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      }).on("error", reject);
    });
    expect(status).toBe(200);
  });

  it("refuses a TLS 1.1 client with a protocol-version alert from the server", async () => {
    // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal is the server's.
    const error = await tlsHandshake({ minVersion: "TLSv1.1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" }).then(
      () => undefined,
      (cause: NodeJS.ErrnoException) => cause,
    );
    expect(error?.code).toBe("ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION");
  });

  it("refuses plain HTTP on the same port", async () => {
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it("closes a client that never completes the TLS handshake within HTTP_HEADERS_TIMEOUT_MS", async () => {
    const silent = await openRaw(`http://127.0.0.1:${port}`);
    silent.write(Buffer.from([0x16, 0x03, 0x01])); // the first bytes of a ClientHello, then nothing
    const { afterMs } = await silent.closed;
    expect(afterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 20);
    expect(afterMs).toBeLessThanOrEqual(HEADERS_TIMEOUT_MS + 3_000);
  });

  it("carries graphql-ws over WSS", async () => {
    class TrustingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { ca: cert });
      }
    }
    const client = wsClient(hub.websocketUrl, hub.adminKey, { webSocketImpl: TrustingWebSocket });
    try {
      const sub = subscribe(client, "subscription { heartbeat(intervalMs: 100) { role } }");
      await sub.waitFor((events) => events.length >= 1);
    } finally {
      await client.dispose();
    }
  });
});
