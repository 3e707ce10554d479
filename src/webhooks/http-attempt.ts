import http from "node:http";
import https from "node:https";
import ipaddr from "ipaddr.js";
import { bareHostname, guardedLookup, resolveChecked, TargetRefusedError, type Resolver, systemResolver } from "./target-guard";

/**
 * One outbound HTTP attempt with a hard deadline, the SSRF guard on every connection,
 * and a result that never throws: success is any 2xx; anything else is classified.
 */

export const ERROR_CLASSES = ["timeout", "connection", "dns", "tls", "http"] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** Response bodies are kept for the attempt log up to this size. */
export const MAX_LOGGED_BODY_BYTES = 4 * 1024;
/** We read (and discard) at most this much of a response before hanging up. */
const MAX_READ_BYTES = 256 * 1024;
const MAX_LOGGED_HEADERS = 50;
const MAX_HEADER_VALUE_CHARS = 1_000;

export interface AttemptRequest {
  method: "POST" | "GET";
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Aborts the request (graceful shutdown); reported as `aborted`. */
  signal?: AbortSignal;
}

export interface AttemptResult {
  startedAt: Date;
  durationMs: number;
  succeeded: boolean;
  httpStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  errorClass: ErrorClass | null;
  errorMessage: string | null;
  /** The request was cancelled by `signal` before an outcome: not an attempt at all. */
  aborted: boolean;
}

export interface HttpAttemptClient {
  send(request: AttemptRequest): Promise<AttemptResult>;
  close(): void;
}

class DeadlineError extends Error {
  constructor(ms: number) {
    super(`no response within ${ms} ms`);
    this.name = "DeadlineError";
  }
}

class AbortedError extends Error {
  constructor() {
    super("cancelled: the worker is shutting down");
    this.name = "AbortedError";
  }
}

const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NODATA", "EAI_NONAME", "ENODATA"]);

export function classifyError(error: unknown): ErrorClass {
  if (error instanceof DeadlineError) return "timeout";
  if (error instanceof TargetRefusedError) return "dns";
  const code = String((error as { code?: unknown }).code ?? "");
  const message = error instanceof Error ? error.message : String(error);
  if (DNS_CODES.has(code)) return "dns";
  if (code === "ETIMEDOUT") return "timeout";
  if (
    code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || code.includes("CERT") || code === "EPROTO" ||
    code === "DEPTH_ZERO_SELF_SIGNED_CERT" || code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" || /\bSSL\b|TLS/.test(message)
  ) {
    return "tls";
  }
  return "connection";
}

function describeError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}

function loggedHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers).slice(0, MAX_LOGGED_HEADERS)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(", ") : value;
    out[name] = text.length > MAX_HEADER_VALUE_CHARS ? text.slice(0, MAX_HEADER_VALUE_CHARS) : text;
  }
  return out;
}

/** Cuts at a UTF-8 character boundary so the stored text is valid. */
export function truncateUtf8(buffer: Buffer, maxBytes: number): string {
  if (buffer.length <= maxBytes) return buffer.toString("utf8");
  let end = maxBytes;
  while (end > 0 && (buffer[end]! & 0xc0) === 0x80) end--;
  return buffer.subarray(0, end).toString("utf8");
}

export function createHttpAttemptClient(options: { allowPrivateTargets: boolean; resolver?: Resolver; maxSocketsPerHost?: number }): HttpAttemptClient {
  const resolver = options.resolver ?? systemResolver;
  const lookup = guardedLookup(options.allowPrivateTargets, resolver);
  // Keep-alive pools per process: receivers get one connection per concurrent attempt,
  // not one per attempt. Idle sockets are unref'd by Node, so they never hold the process.
  const agentOptions = { keepAlive: true, maxSockets: options.maxSocketsPerHost ?? 50, maxFreeSockets: 10, timeout: 30_000, lookup };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent({ ...agentOptions, minVersion: "TLSv1.2" });

  async function send(request: AttemptRequest): Promise<AttemptResult> {
    const startedAt = new Date();
    const started = performance.now();
    const finish = (fields: Partial<AttemptResult>): AttemptResult => ({
      startedAt,
      durationMs: Math.max(0, Math.round(performance.now() - started)),
      succeeded: false,
      httpStatus: null,
      responseHeaders: null,
      responseBody: null,
      errorClass: null,
      errorMessage: null,
      aborted: false,
      ...fields,
    });

    let url: URL;
    try {
      url = new URL(request.url);
      // Node connects to literal addresses without calling lookup: check them here.
      const host = bareHostname(url);
      if (ipaddr.isValid(host)) await resolveChecked(host, options.allowPrivateTargets, resolver);
    } catch (error) {
      return finish({ errorClass: classifyError(error), errorMessage: describeError(error) });
    }

    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const settle = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener("abort", onAbort);
        resolve(result);
      };
      const transport = url.protocol === "https:" ? https : http;
      const req = transport.request(url, {
        method: request.method,
        headers: request.body === undefined ? request.headers : { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) },
        agent: url.protocol === "https:" ? httpsAgent : httpAgent,
        lookup,
      });
      const timer = setTimeout(() => req.destroy(new DeadlineError(request.timeoutMs)), request.timeoutMs);
      const onAbort = () => req.destroy(new AbortedError());
      if (request.signal?.aborted) onAbort();
      request.signal?.addEventListener("abort", onAbort);

      let responded = false;
      req.on("error", (error) => {
        // After the status line arrived, the response's own events decide.
        if (responded) return;
        if (error instanceof AbortedError) {
          settle(finish({ aborted: true, errorClass: "connection", errorMessage: error.message }));
          return;
        }
        settle(finish({ errorClass: classifyError(error), errorMessage: describeError(error) }));
      });
      req.on("response", (res) => {
        responded = true;
        const status = res.statusCode ?? 0;
        const headers = loggedHeaders(res.headers);
        const chunks: Buffer[] = [];
        let kept = 0;
        let read = 0;
        const done = (truncatedBy?: Error) => {
          const body = truncateUtf8(Buffer.concat(chunks), MAX_LOGGED_BODY_BYTES);
          const succeeded = status >= 200 && status < 300;
          settle(
            finish({
              succeeded,
              httpStatus: status,
              responseHeaders: headers,
              responseBody: body,
              // The status decides; a body cut short by the deadline does not turn a 2xx into a failure.
              errorClass: succeeded ? null : "http",
              errorMessage: succeeded ? null : `HTTP ${status}${truncatedBy ? ` (body unread: ${truncatedBy.message})` : ""}`,
            }),
          );
        };
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (kept < MAX_LOGGED_BODY_BYTES + 4) {
            chunks.push(chunk);
            kept += chunk.length;
          }
          if (read > MAX_READ_BYTES) {
            // Enough: a receiver streaming megabytes is not our problem to read.
            res.destroy();
            done();
          }
        });
        res.on("end", () => done());
        res.on("error", (error) => done(error));
        res.on("close", () => done());
      });
      req.end(request.body);
    });
  }

  return {
    send,
    close: () => {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
