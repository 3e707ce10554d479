import { createHmac } from "node:crypto";
import http from "node:http";
import { Logger, run } from "graphile-worker";
import pg from "pg";
import { BASELINE_DELIVERY_TASK, type BaselinePostPayload } from "./contract";

/**
 * The delivery baseline: graphile-worker running a task that makes the same HTTP POST
 * the hub makes (same body shape, Standard Webhooks headers and signature, keep-alive
 * agent) with none of the hub's bookkeeping: no delivery row, lease, attempt log,
 * retry schedule, counters or metrics. Its own process, with DATABASE_URL,
 * WORKER_CONCURRENCY and BENCH_WEBHOOK_SECRET (`whsec_…`).
 */
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? 10);
const signingKey = Buffer.from(String(process.env.BENCH_WEBHOOK_SECRET).replace(/^whsec_/, ""), "base64");
const agent = new http.Agent({ keepAlive: true, maxSockets: 50, maxFreeSockets: 10 });

function post(payload: BaselinePostPayload): Promise<number> {
  const timestamp = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ type: payload.type, timestamp: new Date(timestamp * 1000).toISOString(), data: payload.data });
  const signature = createHmac("sha256", signingKey).update(`${payload.id}.${timestamp}.${body}`).digest("base64");
  return new Promise((resolve, reject) => {
    const request = http.request(
      payload.url,
      {
        method: "POST",
        agent,
        timeout: 10_000,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "webhook-id": payload.id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": `v1,${signature}`,
        },
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error("timeout")));
    request.on("error", reject);
    request.end(body);
  });
}

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Math.max(4, concurrency + 2) });
  pool.on("error", () => {});
  const runner = await run({
    pgPool: pool,
    concurrency,
    pollInterval: 2_000,
    noHandleSignals: true,
    parsedCronItems: [],
    logger: new Logger(() => () => {}),
    taskList: {
      [BASELINE_DELIVERY_TASK]: async (payload) => {
        const status = await post(payload as BaselinePostPayload);
        if (status < 200 || status > 299) throw new Error(`HTTP ${status}`);
      },
    },
  });
  process.stdout.write(`${JSON.stringify({ msg: "baseline worker running" })}\n`);
  process.on("SIGTERM", () => {
    void runner
      .stop()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`baseline delivery worker failed: ${String(error)}\n`);
  process.exit(1);
});
