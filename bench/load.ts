import autocannon from "autocannon";

/**
 * Load through autocannon's programmatic API. Each request is built in `setupRequest`
 * (fresh id, timestamp and signature), its answer is recorded in `onResponse`, and every
 * response time is kept, so percentiles are exact rather than histogram buckets.
 */
export interface LoadRequest {
  key: string;
  body: string;
  headers: Record<string, string>;
}

export interface LoadTarget {
  url: string;
  path: string;
  next(): LoadRequest;
  /** Called with every answer (status and body) for the request's key. */
  answered(key: string, status: number, body: string): void;
}

export interface LoadResult {
  elapsedMs: number;
  responses: number;
  ok2xx: number;
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  latenciesMs: number[];
}

function instance(target: LoadTarget, options: Omit<autocannon.Options, "url" | "requests">, latencies: number[]) {
  const run = autocannon({
    url: target.url,
    timeout: 10,
    pipelining: 1,
    ...options,
    requests: [
      {
        method: "POST",
        path: target.path,
        setupRequest: (request, context) => {
          const next = target.next();
          context.key = next.key;
          return { ...request, method: "POST", path: target.path, headers: next.headers, body: next.body };
        },
        onResponse: (status, body, context) => target.answered(String(context.key), status, body),
      },
    ],
  });
  run.on("response", (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => latencies.push(responseTimeMs));
  return run;
}

function collect(results: autocannon.Result[], elapsedMs: number, latencies: number[]): LoadResult {
  const statusCounts: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  for (const result of results) {
    errors += result.errors;
    timeouts += result.timeouts;
    for (const [status, { count }] of Object.entries(result.statusCodeStats)) statusCounts[status] = (statusCounts[status] ?? 0) + count;
  }
  const responses = Object.values(statusCounts).reduce((sum, n) => sum + n, 0);
  const ok2xx = Object.entries(statusCounts)
    .filter(([status]) => status.startsWith("2"))
    .reduce((sum, [, n]) => sum + n, 0);
  return { elapsedMs, responses, ok2xx, statusCounts, errors, timeouts, latenciesMs: latencies };
}

/** Closed loop at saturation: `connections` keep one request each in flight for `durationSeconds`. */
export async function saturate(target: LoadTarget, connections: number, durationSeconds: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const started = performance.now();
  const result = await instance(target, { connections, duration: durationSeconds }, latencies);
  return collect([result], performance.now() - started, latencies);
}

/**
 * A fixed offered load. autocannon's rate limit gives each connection a per-second
 * budget that it spends at once when its second starts, so one instance at 1 000/s
 * would fire in one burst per second. Starting `instances` instances evenly spread over
 * the second turns that into `instances` small bursts a second: close to a steady
 * arrival rate, with the same total.
 */
export async function paced(
  target: LoadTarget,
  ratePerSecond: number,
  durationSeconds: number,
  options: { instances?: number; connectionsPerInstance?: number } = {},
): Promise<LoadResult & { offeredPerSecond: number }> {
  const instances = Math.max(1, Math.min(options.instances ?? 20, ratePerSecond));
  const connectionsPerInstance = options.connectionsPerInstance ?? 2;
  const latencies: number[] = [];
  const started = performance.now();
  const runs: Array<Promise<autocannon.Result>> = [];
  const timers: NodeJS.Timeout[] = [];
  for (let i = 0; i < instances; i++) {
    const rate = Math.floor(ratePerSecond / instances) + (i < ratePerSecond % instances ? 1 : 0);
    runs.push(
      new Promise((resolve, reject) => {
        timers.push(
          setTimeout(() => {
            instance(target, { connections: Math.min(connectionsPerInstance, rate), overallRate: rate, duration: durationSeconds }, latencies).then(
              resolve,
              reject,
            );
          }, (i * 1000) / instances),
        );
      }),
    );
  }
  try {
    const results = await Promise.all(runs);
    return { ...collect(results, performance.now() - started, latencies), offeredPerSecond: ratePerSecond };
  } finally {
    timers.forEach(clearTimeout);
  }
}
