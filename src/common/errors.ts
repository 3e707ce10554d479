import { isDatabaseUnavailable } from "./database-unavailable";

/**
 * Client-facing errors: each class has a fixed code and HTTP status, and the same
 * instance renders as a GraphQL error (extensions.code) or a REST JSON error.
 * Anything that is not a HubError is an internal error and is never shown as-is.
 */
export abstract class HubError extends Error {
  abstract readonly code: string;
  abstract readonly httpStatus: number;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, options: { field?: string; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.field = options.field;
    this.details = options.details;
  }
}

export class BadUserInputError extends HubError {
  readonly code: string = "BAD_USER_INPUT";
  readonly httpStatus: number = 400;
}

/** The 401 codes; typed, so a message can never be passed where the code belongs. */
export type UnauthenticatedCode =
  | "UNAUTHENTICATED" | "MISSING_API_KEY" | "INVALID_API_KEY"
  | "MISSING_SIGNATURE" | "INVALID_SIGNATURE" | "SIGNATURE_EXPIRED"
  | "MISSING_METRICS_TOKEN" | "INVALID_METRICS_TOKEN";

/* Every class with a variable code takes (message, code, ...): the message first, always. */

export class UnauthenticatedError extends HubError {
  readonly httpStatus = 401;
  constructor(message = "A valid API key is required", readonly code: UnauthenticatedCode = "UNAUTHENTICATED") {
    super(message);
  }
}

export class ForbiddenError extends HubError {
  readonly httpStatus = 403;
  constructor(message = "Not allowed", readonly code: string = "FORBIDDEN") {
    super(message);
  }
}

export class NotFoundError extends HubError {
  readonly code = "NOT_FOUND";
  readonly httpStatus = 404;
  constructor(what: string, id?: string) {
    super(id === undefined ? `${what} not found` : `${what} ${id} not found`);
  }
}

export class ConflictError extends HubError {
  readonly httpStatus = 409;
  constructor(message: string, readonly code: string = "CONFLICT", details?: Record<string, unknown>) {
    super(message, { details });
  }
}

/** A client took longer than the hub allows to send its request (slow or stalled body). */
export class RequestTimeoutError extends HubError {
  readonly code = "REQUEST_TIMEOUT";
  readonly httpStatus = 408;
}

export class UnsupportedMediaTypeError extends HubError {
  readonly code = "UNSUPPORTED_MEDIA_TYPE";
  readonly httpStatus = 415;
}

export class RateLimitedError extends HubError {
  readonly code = "RATE_LIMITED";
  readonly httpStatus = 429;
  constructor(readonly retryAfterSeconds: number) {
    super(`Rate limit exceeded; retry after ${retryAfterSeconds} s`);
  }
}

export class ServiceUnavailableError extends HubError {
  readonly code = "SERVICE_UNAVAILABLE";
  readonly httpStatus = 503;
}

/** A request the API cannot take in this form (e.g. a subscription over HTTP). */
export class BadRequestError extends HubError {
  readonly httpStatus = 400;
  constructor(message: string, readonly code: string = "BAD_REQUEST") {
    super(message);
  }
}

/** A GraphQL document over one of the hub's limits (depth, aliases, fields, cost), refused before it runs. */
export class QueryTooComplexError extends HubError {
  readonly code = "QUERY_TOO_COMPLEX";
  readonly httpStatus = 400;
  constructor(message: string, details: { measure: string; limit: number; actual: number }) {
    super(message, { details });
  }
}

/** A GraphQL operation stopped while it ran: past its deadline (EXECUTION_TIMEOUT) or its client gone (CLIENT_CLOSED_REQUEST). */
export class OperationStoppedError extends HubError {
  readonly httpStatus: number;
  constructor(message: string, readonly code: "EXECUTION_TIMEOUT" | "CLIENT_CLOSED_REQUEST") {
    super(message);
    this.httpStatus = code === "EXECUTION_TIMEOUT" ? 503 : 499;
  }
}

const PG_UNIQUE_VIOLATION = "23505";
const PG_FOREIGN_KEY_VIOLATION = "23503";
const PG_INVALID_TEXT_REPRESENTATION = "22P02";

function postgresCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Maps known database failures onto client errors; everything else stays internal. */
export function toHubError(error: unknown): HubError | undefined {
  if (error instanceof HubError) return error;
  if (isDatabaseUnavailable(error)) return new ServiceUnavailableError("The database is unavailable; retry shortly", { cause: error });
  switch (postgresCode(error)) {
    case PG_UNIQUE_VIOLATION:
      return new ConflictError("A record with the same identity already exists", "CONFLICT", undefined);
    case PG_FOREIGN_KEY_VIOLATION:
      return new NotFoundError("Referenced record");
    case PG_INVALID_TEXT_REPRESENTATION:
      return new BadUserInputError("Malformed identifier");
    default:
      return undefined;
  }
}

export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
