/**
 * Failures that mean "the database cannot be reached right now" (restarted, failing over,
 * the connection was killed), not "the request is wrong". The request may be retried as
 * it is, so clients get 503 SERVICE_UNAVAILABLE instead of an internal error.
 */

/** admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections; and class 08, connection_exception. */
const UNAVAILABLE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);
const CONNECTION_EXCEPTION_CLASS = "08";
const SOCKET_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);
/** pg and knex report a lost or unobtainable connection by message only (knex prefixes the statement: "COMMIT; - Connection terminated unexpectedly"). */
const DRIVER_MESSAGES = [
  /\bConnection terminated\b/,
  /\bConnection ended unexpectedly\b/,
  /\bClient has encountered a connection error and is not queryable\b/,
  /\btimeout exceeded when trying to connect\b/,
  /\bTimeout acquiring a connection\b/,
];

function isUnavailable(error: object): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (UNAVAILABLE_SQLSTATES.has(code) || SOCKET_ERRORS.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return code.startsWith(CONNECTION_EXCEPTION_CLASS);
  }
  const message = (error as { message?: unknown }).message;
  return typeof message === "string" && DRIVER_MESSAGES.some((pattern) => pattern.test(message));
}

/** True when the error, or one of its causes, is a lost or unobtainable database connection. */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; typeof current === "object" && current !== null && depth < 5; depth++) {
    if (isUnavailable(current)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
