import { Counter, type Registry } from "prom-client";
import type { Logger } from "./logger";

/**
 * Last resort, not a fix: every promise is meant to be handled where it is made. One that
 * is not would otherwise end the process (Node's default) and take every tenant's traffic
 * with it; here it is logged with its stack and counted, so it is seen and fixed.
 */
export function reportUnhandledRejections(log: Logger, metrics: Registry): () => void {
  const rejections = new Counter({
    name: "hub_unhandled_rejections_total",
    help: "Promise rejections nobody handled (each is a bug; see the error log)",
    registers: [metrics],
  });
  const onRejection = (reason: unknown) => {
    rejections.inc();
    log.error({ err: reason }, "unhandled promise rejection");
  };
  process.on("unhandledRejection", onRejection);
  return () => process.off("unhandledRejection", onRejection);
}
