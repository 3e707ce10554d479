import http from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";

/**
 * The ingest baseline: the least a postback endpoint can do. A bare `node:http` server
 * that parses the same JSON and does one INSERT … ON CONFLICT DO NOTHING through `pg`:
 * no authentication, signature, rate limit, request log, attribution or outbox. Run as
 * its own process (`node dist/bench/baseline/ingest-server.js`) with DATABASE_URL.
 */
const MAX_BODY_BYTES = 64 * 1024;
const POOL_SIZE = Number(process.env.POOL_SIZE ?? 10);

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: POOL_SIZE });
pool.on("error", () => {});

const INSERT = `insert into baseline_conversion (event_id, event, click_id, customer_id, amount, currency, raw)
  values ($1, $2, $3, $4, $5, $6, $7) on conflict (event_id) do nothing returning id`;

function reply(response: http.ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

const optionalText = (value: unknown) => (typeof value === "string" ? value : null);

async function handle(raw: Buffer, response: http.ServerResponse): Promise<void> {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
  } catch {
    return reply(response, 400, { error: { code: "BAD_REQUEST", message: "malformed JSON" } });
  }
  if (typeof body.event_id !== "string" || typeof body.event !== "string") {
    return reply(response, 400, { error: { code: "BAD_REQUEST", message: "event and event_id are required" } });
  }
  const result = await pool.query(INSERT, [
    body.event_id,
    body.event,
    optionalText(body.click_id),
    optionalText(body.customer_id),
    optionalText(body.amount),
    optionalText(body.currency),
    body,
  ]);
  reply(response, 200, { status: result.rowCount === 1 ? "accepted" : "duplicate" });
}

const server = http.createServer((request, response) => {
  if (request.method !== "POST" || request.url !== "/postback") return reply(response, 404, { error: { code: "NOT_FOUND" } });
  const chunks: Buffer[] = [];
  let size = 0;
  request.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) request.destroy();
    else chunks.push(chunk);
  });
  request.on("end", () => {
    handle(Buffer.concat(chunks), response).catch((error: unknown) =>
      reply(response, 500, { error: { code: "INTERNAL", message: error instanceof Error ? error.message : String(error) } }),
    );
  });
});
server.keepAliveTimeout = 60_000;

async function main(): Promise<void> {
  await pool.query(`create table if not exists baseline_conversion (
    id bigserial primary key, event_id text not null unique, event text not null, click_id text, customer_id text,
    amount numeric, currency text, raw jsonb not null, created_at timestamptz not null default now())`);
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ msg: "baseline listening", port })}\n`);
  });
  process.on("SIGTERM", () => {
    server.close();
    server.closeAllConnections();
    void pool.end().finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`baseline ingest server failed: ${String(error)}\n`);
  process.exit(1);
});
