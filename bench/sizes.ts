/**
 * How big each scenario is. `full` is what bench/README.md reports; `smoke` runs every
 * scenario at a tiny size in seconds, so CI notices when the harness breaks.
 */
export interface Sizes {
  ingest: {
    connections: number;
    warmupSeconds: number;
    saturationSeconds: number;
    pacedRatePerSecond: number;
    pacedSeconds: number;
    clicks: number;
  };
  storm: { seconds: number };
  delivery: { events: number; idleEvents: number };
  queueStats: { rowSteps: number[]; endpoints: number; calls: number };
  /** The whole run is stopped (children killed, exit 1) past this. */
  deadlineSeconds: number;
}

export const FULL: Sizes = {
  ingest: { connections: 32, warmupSeconds: 3, saturationSeconds: 15, pacedRatePerSecond: 1_000, pacedSeconds: 15, clicks: 50 },
  storm: { seconds: 15 },
  delivery: { events: 20_000, idleEvents: 200 },
  queueStats: { rowSteps: [10_000, 100_000, 1_000_000], endpoints: 5, calls: 50 },
  deadlineSeconds: 30 * 60,
};

export const SMOKE: Sizes = {
  ingest: { connections: 4, warmupSeconds: 0, saturationSeconds: 1, pacedRatePerSecond: 40, pacedSeconds: 1, clicks: 3 },
  storm: { seconds: 1 },
  delivery: { events: 200, idleEvents: 5 },
  queueStats: { rowSteps: [1_000, 5_000], endpoints: 2, calls: 5 },
  deadlineSeconds: 150,
};
