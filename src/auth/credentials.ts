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

export const API_KEY_QUERY_PARAMETER = "api_key";

/**
 * Networks that can only fire a URL put the key in the query string (`?api_key=`).
 * Only routes that opt in read it; headers win when both are present.
 */
export function apiKeyFromQuery(url: string): string | undefined {
  const question = url.indexOf("?");
  if (question < 0) return undefined;
  const value = new URLSearchParams(url.slice(question + 1)).get(API_KEY_QUERY_PARAMETER);
  return value !== null && value.trim() !== "" ? value.trim() : undefined;
}
