import type { IncomingMessage } from "node:http";
import { GraphQLError, Kind, type DocumentNode, type OperationDefinitionNode } from "graphql";
import { newAccessState, type ApiGate, type AccessState } from "./access";
import { RateLimitedError, ServiceUnavailableError, toHubError, type HubError } from "../common/errors";
import type { Logger } from "../common/logger";
import { operationLabel } from "./graphql";
import { parseDocument, refusalExtensions } from "./graphql-limits";
import { WS_CLOSE } from "./websocket-close";
import type { KeyViewer } from "../common/viewer";

/**
 * graphql-ws through the same access gate as REST and GraphQL over HTTP: the client
 * address honours TRUST_PROXY, every operation spends the key's rate-limit budget and
 * re-checks the key, and connection refusals and operations land in the request log.
 */
export const WS_METHOD = "WS";
const WS_ROUTE = "/graphql";

export type ConnectionAuthorization =
  | { readonly ok: true; readonly viewer: KeyViewer }
  | { readonly ok: false; readonly closeCode: number; readonly code: string; readonly message: string };

/** What a connection keeps for its later operations. */
export interface GatedConnection {
  readonly id: string;
  clientIp: string;
  apiKey: string | undefined;
}

function firstOperation(document: DocumentNode | undefined): OperationDefinitionNode | undefined {
  return document?.definitions.find((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
}

function record(gate: ApiGate, connection: GatedConnection, state: AccessState, status: number, started: bigint): void {
  gate.record(state, {
    requestId: connection.id,
    method: WS_METHOD,
    route: WS_ROUTE,
    status,
    durationUs: Number((process.hrtime.bigint() - started) / 1000n),
  });
}

/** Close code and reason for a refusal at connection_init (the same codes the live layer documents). */
function refusalOf(error: unknown, log: Logger): { closeCode: number; code: string; message: string; status: number } {
  const hubError = toHubError(error);
  if (!hubError || hubError instanceof ServiceUnavailableError) {
    if (!hubError) log.warn({ err: error }, "could not check a WebSocket API key");
    return { closeCode: WS_CLOSE.TRY_AGAIN_LATER, code: "SERVICE_UNAVAILABLE", message: "The API key could not be checked; retry shortly", status: 503 };
  }
  if (hubError instanceof RateLimitedError) {
    // Retryable on purpose (graphql-ws clients do not retry 4429).
    return { closeCode: WS_CLOSE.TRY_AGAIN_LATER, code: hubError.code, message: hubError.message, status: 429 };
  }
  if (hubError.code === "IP_NOT_ALLOWED") {
    return { closeCode: WS_CLOSE.FORBIDDEN, code: hubError.code, message: "This API key may not connect from this address", status: 403 };
  }
  return { closeCode: 4000 + hubError.httpStatus, code: hubError.code, message: hubError.message, status: hubError.httpStatus };
}

/** connection_init: the key (in the payload) through the gate; refusals are logged with their close reason's code. */
export async function admitConnection(
  gate: ApiGate,
  connection: GatedConnection,
  params: Readonly<Record<string, unknown>> | undefined,
  request: IncomingMessage,
  log: Logger,
): Promise<ConnectionAuthorization> {
  const started = process.hrtime.bigint();
  connection.clientIp = gate.clientIps.resolve(request.socket.remoteAddress, request.headers["x-forwarded-for"]);
  const state = newAccessState(connection.clientIp);
  state.operation = "connection_init";
  const refuse = (closeCode: number, code: string, message: string, status: number): ConnectionAuthorization => {
    state.errorCode = code;
    record(gate, connection, state, status, started);
    return { ok: false, closeCode, code, message };
  };
  const apiKey = params?.apiKey;
  if (apiKey === undefined || apiKey === null || apiKey === "") {
    return refuse(WS_CLOSE.UNAUTHENTICATED, "MISSING_API_KEY", "Send { apiKey } in the connection_init payload", 401);
  }
  if (typeof apiKey !== "string") return refuse(WS_CLOSE.BAD_REQUEST, "BAD_REQUEST", "connection_init apiKey must be a string", 400);
  try {
    await gate.admitKey(state, apiKey);
  } catch (error: unknown) {
    const refusal = refusalOf(error, log);
    return refuse(refusal.closeCode, refusal.code, refusal.message, refusal.status);
  }
  connection.apiKey = apiKey;
  record(gate, connection, state, 200, started);
  return { ok: true, viewer: state.viewer as KeyViewer };
}

/**
 * Each operation: the key must still be active, allowed here, and within its budget, and
 * then the operation itself must pass `check` (the GraphQL limits). Refusals answer that
 * operation only, and are logged with their code.
 */
export async function admitOperation(
  gate: ApiGate,
  connection: GatedConnection,
  payload: { operationName?: string | null; query?: unknown },
  check: (document: DocumentNode) => HubError | undefined = () => undefined,
): Promise<readonly GraphQLError[] | undefined> {
  const started = process.hrtime.bigint();
  const state = newAccessState(connection.clientIp);
  // Unparsable queries are graphql-ws's to answer; they are logged without a label.
  const document = typeof payload.query === "string" ? parseDocument(payload.query) : undefined;
  state.operation = operationLabel(payload.operationName, firstOperation(document));
  try {
    if (connection.apiKey !== undefined) await gate.admitKey(state, connection.apiKey);
    const refusal = document ? check(document) : undefined;
    if (refusal) throw refusal;
  } catch (error: unknown) {
    const refusal = toHubError(error);
    state.errorCode = refusal?.code ?? "INTERNAL_SERVER_ERROR";
    record(gate, connection, state, refusal?.httpStatus ?? 500, started);
    if (!refusal) throw error;
    return [new GraphQLError(refusal.message, { extensions: refusalExtensions(refusal) })];
  }
  record(gate, connection, state, 200, started);
  return undefined;
}
