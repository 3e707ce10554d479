import type pg from "pg";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import { RateLimitedError, ServiceUnavailableError } from "../common/errors";

const WINDOW_SECONDS = 60;
export const RATE_LIMIT_TABLE = "rate_limit";

/**
 * Fixed one-minute windows counted in Postgres (rate-limiter-flexible's store: one atomic
 * upsert per request), so every api process sharing the database shares each budget.
 * A key over budget is also remembered in memory until its window ends, so a client that
 * keeps hammering costs this process no further database writes.
 */
export class RateLimits {
  /** One limiter per distinct budget; keys with the same budget share an instance. */
  private readonly keyLimiters = new Map<number, RateLimiterPostgres>();
  private readonly clickLimiter: RateLimiterPostgres;
  private readonly anonymousLimiter: RateLimiterPostgres;

  constructor(
    private readonly pool: pg.Pool,
    private readonly defaultPerMinute: number,
    clickPerMinute: number,
    anonymousPerMinute: number,
  ) {
    this.clickLimiter = this.limiter("click", clickPerMinute);
    this.anonymousLimiter = this.limiter("anon", anonymousPerMinute);
  }

  /** Spends one request of an API key's budget, or throws RateLimitedError (429). */
  async consumeKey(keyId: string, perMinute: number | null): Promise<void> {
    const budget = perMinute ?? this.defaultPerMinute;
    let limiter = this.keyLimiters.get(budget);
    if (!limiter) {
      limiter = this.limiter("key", budget);
      this.keyLimiters.set(budget, limiter);
    }
    await consume(limiter, keyId);
  }

  /** Spends one request of a client IP's budget on the public click redirect. */
  async consumeClick(clientIp: string): Promise<void> {
    await consume(this.clickLimiter, clientIp);
  }

  /** Spends one request of a client IP's budget for calls without an API key (GraphQL). */
  async consumeAnonymous(clientIp: string): Promise<void> {
    await consume(this.anonymousLimiter, clientIp);
  }

  private limiter(keyPrefix: string, points: number): RateLimiterPostgres {
    return new RateLimiterPostgres({
      storeClient: this.pool,
      storeType: "pool",
      tableName: RATE_LIMIT_TABLE,
      // The table comes from a migration; expired rows are pruned by the rate_limit__prune job.
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix,
      points,
      duration: WINDOW_SECONDS,
      inMemoryBlockOnConsumed: points + 1,
    });
  }
}

async function consume(limiter: RateLimiterPostgres, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection: unknown) {
    if (rejection instanceof RateLimiterRes) {
      throw new RateLimitedError(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
    }
    // Fail closed: without the shared counter nobody can say the request is within budget.
    throw new ServiceUnavailableError("The rate limiter is unavailable; retry shortly", { cause: rejection });
  }
}
