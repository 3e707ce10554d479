import type { HubFeature } from "../feature";
import { installAccessControl } from "./access.hooks";
import { ApiKey } from "./api-key.entity";
import { ApiKeyResolver } from "./api-key.resolver";
import { bootstrapAdminKey } from "./api-key.service";
import { RateLimitBucket } from "./rate-limit.entity";
import { RequestLog } from "./request-log.entity";
import { RequestLogResolver } from "./request-log.resolver";
import { RATE_LIMIT_PRUNE_TASK, rateLimitPruneTask } from "./tasks/rate_limit__prune";
import { REQUEST_LOG_PRUNE_TASK, requestLogPruneTask } from "./tasks/request_log__prune";

/** With no backfill, a worker that was down does not replay missed hours: the next run catches up anyway. */
const HOURLY = { backfillPeriod: 0, maxAttempts: 3 };

/** API keys, the access gate every call passes (key, IP allowlist, role, rate limit) and the request log. */
export const authFeature: HubFeature = {
  name: "auth",
  entities: [ApiKey, RateLimitBucket, RequestLog],
  resolvers: [ApiKeyResolver, RequestLogResolver],
  tasks: (hub) => ({
    [REQUEST_LOG_PRUNE_TASK]: requestLogPruneTask(hub),
    [RATE_LIMIT_PRUNE_TASK]: rateLimitPruneTask(hub),
  }),
  cron: [
    { task: REQUEST_LOG_PRUNE_TASK, match: "17 * * * *", identifier: REQUEST_LOG_PRUNE_TASK, options: HOURLY },
    { task: RATE_LIMIT_PRUNE_TASK, match: "23 * * * *", identifier: RATE_LIMIT_PRUNE_TASK, options: HOURLY },
  ],
  bootstrap: async (em, config) => {
    const { generatedSecret } = await bootstrapAdminKey(em, config.adminKey);
    return { generatedAdminKey: generatedSecret };
  },
  install: ({ hub, app, databaseUrl, onClose }) => {
    if (!app) return;
    // Closed after the HTTP server: in-flight requests still log, then the rest is written.
    const access = installAccessControl(app, hub, databaseUrl);
    onClose(() => access.close());
    return { apiGate: access.gate };
  },
};
