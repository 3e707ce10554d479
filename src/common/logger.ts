import pino, { type Logger } from "pino";

export type { Logger };

/** Secrets can arrive in headers or query strings; pino removes them before any line is written. */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers[\"x-api-key\"]",
  "req.headers[\"x-hub-signature\"]",
  "req.query.api_key",
  "req.query.signature",
  "*.secret",
  "*.apiKey",
  "*.password",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" }, base: { pid: process.pid } }, destination);
}
