import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyRole } from "../../src/auth/api-key.entity";
import { startTestHub, type TestHub } from "../helpers/hub";
import { insertApiKey, insertOperator } from "../helpers/tenants";
import { waitFor } from "../helpers/wait-for";

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
beforeAll(async () => {
  hub = await startTestHub({ env: { QUEUE_DEPTH_PUSH_INTERVAL_MS: "200" } });
});
afterAll(async () => {
  await hub?.stop();
});

describe("the README's example live client", () => {
  it("is the file the README shows", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme).toContain(readFileSync(EXAMPLE, "utf8").trim());
  });

  it("prints the job queue on connect and again when it changes", async () => {
    const example = runExample({ HUB_WS_URL: hub.websocketUrl, HUB_KEY: hub.adminKey });
    try {
      await waitFor(() => example.stdout().includes('"due":0'), { timeoutMs: 30_000, what: `the first value\n${example.stderr()}` });
      await hub.db.query("select graphile_worker.add_job('test__never_runs', '{}'::json)");
      await waitFor(() => example.stdout().includes('"due":1'), { timeoutMs: 30_000, what: "the changed value" });
      expect(example.stdout()).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \{"due":0,"scheduled":0,"running":0,"failed":0,"oldestDueAgeSeconds":null\}$/m);
    } finally {
      example.child.kill();
    }
  });

  it("stops with a clear message when the key is refused", async () => {
    const operator = await insertOperator(hub.hub.orm.em.fork());
    const { secret } = await insertApiKey(hub.hub.orm.em.fork(), { role: ApiKeyRole.OPERATOR, operatorId: operator.id });
    const refusedKey = runExample({ HUB_WS_URL: hub.websocketUrl, HUB_KEY: "ahk_wrong" });
    expect(await refusedKey.exited).toBe(1);
    expect(refusedKey.stderr()).toContain("connection closed: 4401 INVALID_API_KEY: The API key is unknown or revoked");

    const notAdmin = runExample({ HUB_WS_URL: hub.websocketUrl, HUB_KEY: secret });
    expect(await notAdmin.exited).toBe(1);
    expect(notAdmin.stderr()).toMatch(/^refused: .*"code":"FORBIDDEN"/m);
  });
});
