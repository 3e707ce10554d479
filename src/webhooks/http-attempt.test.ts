import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyError, createHttpAttemptClient, MAX_LOGGED_BODY_BYTES, truncateUtf8 } from "./http-attempt";
import { TargetRefusedError } from "./target-guard";

describe("error classes", () => {
  it.each([
    [Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.example"), { code: "ENOTFOUND" }), "dns"],
    [Object.assign(new Error("temporary failure"), { code: "EAI_AGAIN" }), "dns"],
    [new TargetRefusedError("refused 10.0.0.1 is a private address"), "dns"],
    [Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }), "connection"],
    [Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), "connection"],
    [Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }), "tls"],
    [Object.assign(new Error("certificate has expired"), { code: "CERT_HAS_EXPIRED" }), "tls"],
    [Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: "ERR_TLS_CERT_ALTNAME_INVALID" }), "tls"],
    [Object.assign(new Error("wrong version number"), { code: "ERR_SSL_WRONG_VERSION_NUMBER" }), "tls"],
    [Object.assign(new Error("connect ETIMEDOUT"), { code: "ETIMEDOUT" }), "timeout"],
  ])("classifies %s as %s", (error, expected) => {
    expect(classifyError(error)).toBe(expected);
  });

  it("cuts logged bodies at a character boundary", () => {
    const body = Buffer.from(`${"a".repeat(MAX_LOGGED_BODY_BYTES - 1)}€tail`);
    const kept = truncateUtf8(body, MAX_LOGGED_BODY_BYTES);
    expect(kept).toBe("a".repeat(MAX_LOGGED_BODY_BYTES - 1));
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(MAX_LOGGED_BODY_BYTES);
  });
});

describe("an HTTP attempt", () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === "/big") {
        res.writeHead(200, { "x-many": "1" });
        res.end("x".repeat(100_000));
      } else if (req.url === "/redirect") {
        res.writeHead(302, { location: "http://127.0.0.1:1/elsewhere" });
        res.end();
      } else {
        res.writeHead(503, { "retry-after": "7" });
        res.end("busy");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("keeps 4 KiB of the body and the headers, and does not follow redirects", async () => {
    const client = createHttpAttemptClient({ allowPrivateTargets: true });
    try {
      const big = await client.send({ method: "GET", url: `${base}/big`, headers: {}, timeoutMs: 5_000 });
      expect(big).toMatchObject({ succeeded: true, httpStatus: 200, errorClass: null });
      expect(big.responseBody).toHaveLength(MAX_LOGGED_BODY_BYTES);
      const redirect = await client.send({ method: "GET", url: `${base}/redirect`, headers: {}, timeoutMs: 5_000 });
      expect(redirect).toMatchObject({ succeeded: false, httpStatus: 302, errorClass: "http" });
      const busy = await client.send({ method: "POST", url: `${base}/busy`, headers: {}, body: "{}", timeoutMs: 5_000 });
      expect(busy).toMatchObject({ succeeded: false, httpStatus: 503, responseBody: "busy", errorMessage: "HTTP 503" });
      expect(busy.responseHeaders).toMatchObject({ "retry-after": "7" });
    } finally {
      client.close();
    }
  });

  it("refuses a private literal address before connecting when private targets are not allowed", async () => {
    const client = createHttpAttemptClient({ allowPrivateTargets: false });
    try {
      const refused = await client.send({ method: "POST", url: `${base}/busy`, headers: {}, body: "{}", timeoutMs: 5_000 });
      expect(refused).toMatchObject({ succeeded: false, httpStatus: null, errorClass: "dns" });
      expect(refused.errorMessage).toMatch(/loopback/);
    } finally {
      client.close();
    }
  });
});
