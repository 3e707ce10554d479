import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AccessPolicy } from "../http/access";
import { admittedKey } from "../auth/access-gate";
import { callLogOf } from "../http/access";
import { API_KEY_QUERY_PARAMETER } from "../auth/credentials";
import { BadUserInputError, ForbiddenError, UnsupportedMediaTypeError } from "../common/errors";
import type { Hub } from "../context";
import { PostbackSecrets } from "../tenants/postback-secret";
import { parseConversionParameters } from "./conversion-input";
import { ConversionSource } from "./conversion-status";
import { ConversionBatcher } from "./conversion-batcher";
import type { RecordedConversion } from "./conversion.service";
import {
  canonicalQuery,
  SIGNATURE_HEADER,
  SIGNATURE_PARAMETER,
  TIMESTAMP_HEADER,
  TIMESTAMP_PARAMETER,
  verifyPostbackSignature,
} from "./postback-signature";
import { ApiKeyRole } from "../common/viewer";

export const POSTBACK_PATH = "/postback";

/** Operator keys only; the key may also come as ?api_key= for networks that can only fire a URL. */
const POSTBACK_ACCESS: AccessPolicy = { kind: "key", requireKey: true, queryKey: true, roles: [ApiKeyRole.OPERATOR] };

const JSON_TYPE = "application/json";
const FORM_TYPE = "application/x-www-form-urlencoded";

export class MalformedBodyError extends BadUserInputError {
  override readonly code = "MALFORMED_BODY";
}

type Parameters = Record<string, string | string[]>;

/** Repeated names become arrays (the validator refuses them for known parameters; unknown ones are kept as sent). */
function collect(pairs: Iterable<[string, string]>, skip: ReadonlySet<string>): Parameters {
  const parameters: Parameters = Object.create(null) as Parameters;
  for (const [name, value] of pairs) {
    if (skip.has(name)) continue;
    const previous = parameters[name];
    parameters[name] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return parameters;
}

function queryOf(url: string): string {
  const question = url.indexOf("?");
  return question < 0 ? "" : url.slice(question + 1);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

const CREDENTIALS = new Set([API_KEY_QUERY_PARAMETER]);
const GET_SKIPPED = new Set([API_KEY_QUERY_PARAMETER, SIGNATURE_PARAMETER, TIMESTAMP_PARAMETER]);

function parseBody(body: Buffer, contentType: string): Record<string, unknown> {
  if (contentType === FORM_TYPE) return collect(new URLSearchParams(body.toString("utf8")), CREDENTIALS);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch (cause) {
    throw new MalformedBodyError("The body is not valid JSON", { cause });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new MalformedBodyError("The JSON body must be an object of parameters");
  }
  const { [API_KEY_QUERY_PARAMETER]: _credential, ...parameters } = parsed as Record<string, unknown>;
  return parameters;
}

function answer(result: RecordedConversion): Record<string, unknown> {
  return {
    status: result.outcome,
    conversionId: result.conversionId,
    attributed: result.attributed,
    conversionStatus: result.status,
    ...(result.previousStatus !== null ? { previousStatus: result.previousStatus } : {}),
  };
}

/**
 * `GET /postback?…` and `POST /postback` (JSON or form). The access hooks have already
 * admitted an operator key (401/403/429); here: signature (401), parameters (400/413/415),
 * then the idempotent record (200, or 409).
 */
export async function installPostbackRoutes(app: FastifyInstance, hub: Hub): Promise<void> {
  const secrets = new PostbackSecrets(hub.secrets);
  const conversions = new ConversionBatcher(hub);

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const access = request.access!;
    const key = admittedKey(access);
    if (!key.operatorId || !key.operatorSigning) throw new ForbiddenError("This key is not an operator's");
    const now = new Date();
    let payload: string | Buffer;
    let timestamp = header(request, TIMESTAMP_HEADER);
    let signature = header(request, SIGNATURE_HEADER);
    let parameters: Record<string, unknown> | undefined;
    let contentType: string | undefined;
    if (request.method === "GET") {
      const pairs = [...new URLSearchParams(queryOf(request.url))];
      payload = canonicalQuery(pairs);
      timestamp ??= pairs.find(([name]) => name === TIMESTAMP_PARAMETER)?.[1];
      signature ??= pairs.find(([name]) => name === SIGNATURE_PARAMETER)?.[1];
      parameters = collect(pairs, GET_SKIPPED);
    } else {
      // Only the two parsers below exist on this route, so a body is always one of them.
      if (!Buffer.isBuffer(request.body)) throw new UnsupportedMediaTypeError(`Send ${JSON_TYPE} or ${FORM_TYPE}`);
      payload = request.body;
      contentType = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    }

    if (key.operatorSigning.requireSignature) {
      verifyPostbackSignature({
        secrets: secrets.valid(key.operatorSigning, now),
        timestamp,
        signature,
        payload,
        nowSeconds: Math.floor(now.getTime() / 1000),
        toleranceSeconds: hub.config.postbackTimestampToleranceSeconds,
      });
    }
    parameters ??= parseBody(payload as Buffer, contentType!);
    const input = parseConversionParameters(parameters, now);

    const result = await conversions.submit({
      operatorId: key.operatorId,
      input,
      source: ConversionSource.POSTBACK,
      apiKeyId: key.id,
      rawRequest: {
        method: request.method,
        ...(contentType ? { contentType } : {}),
        parameters,
        ...(timestamp ? { timestamp } : {}),
        ...(signature ? { signature } : {}),
        clientIp: access.clientIp,
        requestId: request.id,
      },
      callLog: callLogOf(access, { requestId: request.id, method: request.method, route: POSTBACK_PATH }),
    });
    return reply.status(200).send(answer(result));
  };

  await app.register(async (scope) => {
    // Raw bytes: the signature covers the body exactly as sent. Anything but JSON and form is a 415.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser([JSON_TYPE, FORM_TYPE], { parseAs: "buffer" }, (_request, body, done) => done(null, body));
    scope.get(POSTBACK_PATH, { config: { access: POSTBACK_ACCESS } }, handle);
    scope.post(POSTBACK_PATH, { config: { access: POSTBACK_ACCESS } }, handle);
  });
}
