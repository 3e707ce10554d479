import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { configProblems } from "../helpers/config";

const problemsOf = configProblems;

describe("webhook configuration", () => {
  it("has the documented defaults", () => {
    const config = loadConfig({});
    expect(config.webhooks).toEqual({
      timeoutMs: 10_000,
      retryScheduleMs: [30_000, 120_000, 600_000, 3_600_000, 7_200_000, 10_800_000, 10_800_000, 10_800_000, 10_800_000, 14_400_000, 14_400_000],
      allowPrivateTargets: false,
      disableAfterHours: 120,
      secretMaxAgeDays: 90,
      leaseMs: 30_000,
      sweepIntervalMs: 5_000,
      maxInFlightPerEndpoint: 4,
    });
    expect(config.queueDepthAlertThreshold).toBe(100);
    expect(config.queueSampleIntervalMs).toBe(1_000);
    expect(Object.isFrozen(config.webhooks)).toBe(true);
  });

  it("reads every variable", () => {
    const config = loadConfig({
      WEBHOOK_TIMEOUT_MS: "2000",
      WEBHOOK_RETRY_SCHEDULE: "1s,2s",
      WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
      WEBHOOK_DISABLE_AFTER_HOURS: "24",
      WEBHOOK_SECRET_MAX_AGE_DAYS: "30",
      WEBHOOK_LEASE_MS: "5000",
      WEBHOOK_SWEEP_INTERVAL_MS: "250",
      WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: "12",
      QUEUE_DEPTH_ALERT_THRESHOLD: "5000",
      QUEUE_SAMPLE_INTERVAL_MS: "500",
    });
    expect(config.webhooks).toMatchObject({ timeoutMs: 2_000, retryScheduleMs: [1_000, 2_000], allowPrivateTargets: true, disableAfterHours: 24, secretMaxAgeDays: 30, leaseMs: 5_000, sweepIntervalMs: 250, maxInFlightPerEndpoint: 12 });
    expect(config).toMatchObject({ queueDepthAlertThreshold: 5_000, queueSampleIntervalMs: 500 });
  });

  it("names what is wrong with each", () => {
    expect(problemsOf({ WEBHOOK_RETRY_SCHEDULE: "30s,soon", WEBHOOK_ALLOW_PRIVATE_TARGETS: "yes", WEBHOOK_TIMEOUT_MS: "0", WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: "0" })).toEqual(
      expect.arrayContaining([
        'WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT must be an integer 1-100, got "0"',
        'WEBHOOK_RETRY_SCHEDULE has "soon", which is not a delay such as 500ms, 30s, 2m, 1h or 1d, got "30s,soon"',
        'WEBHOOK_ALLOW_PRIVATE_TARGETS must be true or false, got "yes"',
        'WEBHOOK_TIMEOUT_MS must be an integer 100-120000, got "0"',
      ]),
    );
  });

  it("refuses a lease that an attempt could outlive", () => {
    expect(problemsOf({ WEBHOOK_TIMEOUT_MS: "10000", WEBHOOK_LEASE_MS: "10500" })).toEqual([
      "WEBHOOK_LEASE_MS must exceed WEBHOOK_TIMEOUT_MS by at least 1000 ms (an attempt must end before its lease can), got 10500 with a timeout of 10000",
    ]);
    expect(loadConfig({ WEBHOOK_TIMEOUT_MS: "5000" }).webhooks.leaseMs).toBe(25_000);
  });
});
