import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHub, type TestHub } from "../helpers/hub";
import { insertApiKey, insertOperator } from "../helpers/tenants";
import { waitFor } from "../helpers/wait-for";
import { WebhookReceiver } from "../helpers/webhook-receiver";
import { conversionData, createEndpoint, publish } from "../helpers/webhooks";
import { ApiKeyRole } from "../../src/common/viewer";

const ROOT = path.resolve(__dirname, "../..");
const EXAMPLE = path.join(ROOT, "examples/live-client.mjs");

function runExample(env: Record<string, string>) {
  const child = spawn(process.execPath, [EXAMPLE], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

let hub: TestHub;
let failing: WebhookReceiver;
beforeAll(async () => {
  // Retries an hour apart: a delivery to the failing receiver stays in the queue.
  hub = await startTestHub({ env: { QUEUE_DEPTH_PUSH_INTERVAL_MS: "200", WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_RETRY_SCHEDULE: "1h" } });
  failing = await WebhookReceiver.start(() => ({ status: 500 }));
});
afterAll(async () => {
  await hub?.stop();
  await failing?.close();
});

describe("the README's example live client", () => {
  it("is the file the README shows", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme).toContain(readFileSync(EXAMPLE, "utf8").trim());
  });

  it("prints the delivery queue depth on connect and again when it changes", async () => {
    const example = runExample({ HUB_WS_URL: hub.websocketUrl, HUB_KEY: hub.adminKey });
    try {
      await waitFor(() => example.stdout().includes('"pending":0'), { timeoutMs: 30_000, what: `the first value\n${example.stderr()}` });
      await createEndpoint(hub, { url: failing.url() });
      await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData() });
      await waitFor(() => example.stdout().includes('"pending":1'), { timeoutMs: 30_000, what: "the changed value" });
      expect(example.stdout()).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \{"pending":0,"dueNow":0,"scheduledRetries":0,"inFlight":0,"dead":0,"oldestPendingAgeSeconds":null\}$/m);
    } finally {
      example.child.kill();
    }
  });

  it("shows an operator key its own endpoints' share only", async () => {
    const operator = await insertOperator(hub.hub.orm.em.fork());
    const { secret } = await insertApiKey(hub.hub.orm.em.fork(), { role: ApiKeyRole.OPERATOR, operatorId: operator.id });
    const example = runExample({ HUB_WS_URL: hub.websocketUrl, HUB_KEY: secret });
    try {
      // The admin's endpoint holds a pending delivery (test above); the operator owns none.
      await waitFor(() => example.stdout().includes('"pending":0'), { timeoutMs: 30_000, what: `the operator's value\n${example.stderr()}` });
      expect(example.stdout()).not.toContain('"pending":1');
    } finally {
      example.child.kill();
    }
  });

  it("stops with a clear message when the key is refused", async () => {
    const refusedKey = runExample({ HUB_WS_URL: hub.websocketUrl, HUB_KEY: "ahk_wrong" });
    expect(await refusedKey.exited).toBe(1);
    expect(refusedKey.stderr()).toContain("connection closed: 4401 INVALID_API_KEY: The API key is unknown or revoked");
  });
});
