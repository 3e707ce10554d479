import type { IncomingHttpHeaders } from "node:http";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** An API key arrives as `X-Api-Key: <key>` or `Authorization: Bearer <key>`. */
export function apiKeyFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const explicit = headers["x-api-key"];
  if (typeof explicit === "string" && explicit.trim() !== "") return explicit.trim();
  const authorization = headers.authorization;
  const match = typeof authorization === "string" ? BEARER.exec(authorization) : null;
  return match?.[1];
}
