import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Registry } from "prom-client";
import { UnauthenticatedError } from "../common/errors";
import { restErrorBody } from "./rest-errors";

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const BEARER = /^Bearer ([^\s]+)$/i;

/**
 * Digests of equal length compared in constant time: neither the token's bytes nor its
 * length leak through the time a refusal takes.
 */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Undefined when the scrape may proceed; otherwise why not. */
function metricsRefusal(request: FastifyRequest, token: string): UnauthenticatedError | undefined {
  const authorization = request.headers.authorization;
  if (authorization === undefined) {
    return new UnauthenticatedError("/metrics requires Authorization: Bearer <METRICS_TOKEN>", "MISSING_METRICS_TOKEN");
  }
  const given = BEARER.exec(authorization)?.[1];
  if (given === undefined || !sameSecret(given, token)) {
    return new UnauthenticatedError("The metrics token is not valid", "INVALID_METRICS_TOKEN");
  }
  return undefined;
}

/**
 * /healthz: the process answers. /readyz: it can do its work. /metrics: Prometheus text,
 * behind `Authorization: Bearer <metricsToken>` when one is configured (probes stay open).
 */
export function registerHealthRoutes(app: FastifyInstance, checks: ReadinessCheck[], metrics: Registry, options: { metricsToken?: string } = {}): void {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS);
          return { name, ok: true as const };
        } catch (error) {
          return { name, ok: false as const, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    const ready = results.every((result) => result.ok);
    return reply.status(ready ? 200 : 503).send({ status: ready ? "ready" : "unready", checks: results });
  });

  app.get("/metrics", async (request, reply) => {
    const refusal = options.metricsToken === undefined ? undefined : metricsRefusal(request, options.metricsToken);
    if (refusal) {
      return reply.status(refusal.httpStatus).header("www-authenticate", 'Bearer realm="metrics"').send(restErrorBody(refusal, request.id));
    }
    return reply.header("content-type", metrics.contentType).send(await metrics.metrics());
  });
}
