import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { HubError, RateLimitedError, toHubError } from "../common/errors";

export interface RestErrorBody {
  error: { code: string; message: string; field?: string; requestId?: string };
}

export function restErrorBody(error: HubError, requestId?: string): RestErrorBody {
  return { error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}), ...(requestId ? { requestId } : {}) } };
}

const FASTIFY_CODES: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: "PAYLOAD_TOO_LARGE", message: "The request body is larger than allowed" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: "UNSUPPORTED_MEDIA_TYPE", message: "Unsupported content type" },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: "MALFORMED_BODY", message: "The JSON body is empty" },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: "MALFORMED_BODY", message: "Content-Length does not match the body" },
};

/** The REST error contract: `{ "error": { "code", "message", "field"? } }`, never a stack. */
export function handleRestError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const hubError = toHubError(error);
  if (hubError) {
    if (hubError instanceof RateLimitedError) reply.header("retry-after", String(hubError.retryAfterSeconds));
    return reply.status(hubError.httpStatus).send(restErrorBody(hubError, request.id));
  }
  const known = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (known) {
    return reply.status(known.status).send({ error: { code: known.code, message: known.message, requestId: request.id } });
  }
  if (error.statusCode === 400 && error instanceof SyntaxError) {
    return reply.status(400).send({ error: { code: "MALFORMED_BODY", message: "The body is not valid JSON", requestId: request.id } });
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return reply.status(error.statusCode).send({ error: { code: "BAD_REQUEST", message: error.message, requestId: request.id } });
  }
  request.log.error({ err: error }, "unhandled error in HTTP route");
  return reply.status(500).send({ error: { code: "INTERNAL", message: "Internal server error", requestId: request.id } });
}
