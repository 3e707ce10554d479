import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";

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

/** /healthz: the process answers. /readyz: it can do its work. /metrics: Prometheus text. */
export function registerHealthRoutes(app: FastifyInstance, checks: ReadinessCheck[], metrics: Registry): void {
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

  app.get("/metrics", async (_request, reply) => {
    return reply.header("content-type", metrics.contentType).send(await metrics.metrics());
  });
}
