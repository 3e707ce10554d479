import type { FastifyInstance, FastifyRequest } from "fastify";
import type { SignedRequest } from "../context";

declare module "fastify" {
  interface FastifyRequest {
    /** The JSON body exactly as received (GraphQL over HTTP only): what a request signature covers. */
    rawJsonBody: Buffer | null;
  }
}

const JSON_TYPE = "application/json";
const TIMESTAMP_HEADER = "x-hub-timestamp";
const SIGNATURE_HEADER = "x-hub-signature";

/**
 * Replaces the scope's JSON parser with Fastify's own, fed from a buffer that is kept on
 * the request: a signature must be checked over the bytes as sent, not over a re-encoding
 * of the parsed object. Same limits (the app's body limit applies while reading), same
 * prototype-poisoning protection; the buffer is the one Fastify reads anyway.
 */
export function keepRawJsonBody(scope: FastifyInstance): void {
  const parseJson = scope.getDefaultJsonParser("error", "error");
  scope.decorateRequest("rawJsonBody", null);
  scope.removeContentTypeParser(JSON_TYPE);
  scope.addContentTypeParser(JSON_TYPE, { parseAs: "buffer" }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawJsonBody = raw;
    parseJson(request, raw.toString("utf8"), done);
  });
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/** What a signed GraphQL POST carries; undefined without a body (GET). */
export function signedRequestOf(request: FastifyRequest): SignedRequest | undefined {
  if (!request.rawJsonBody) return undefined;
  return { body: request.rawJsonBody, timestamp: header(request, TIMESTAMP_HEADER), signature: header(request, SIGNATURE_HEADER) };
}
