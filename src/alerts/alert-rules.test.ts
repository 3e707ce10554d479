import { describe, expect, it } from "vitest";
import { decideAlerts, deadKey, disabledKey, QUEUE_DEPTH_KEY, rotationKey, type AlertRuleInput, type EndpointFacts } from "./alert-rules";

const now = new Date("2026-06-01T00:00:00Z");
function endpoint(fields: Partial<EndpointFacts> = {}): EndpointFacts {
  return {
    id: "e1", description: null, enabled: true, disabledReason: null, secretCreatedAt: now,
    ownerOperatorId: null, ownerAffiliateId: null, dead: 0, pending: 0, ...fields,
  };
}
function input(fields: Partial<AlertRuleInput>): AlertRuleInput {
  return { now, pending: 0, queueDepthThreshold: 100, disableAfterHours: 120, secretMaxAgeDays: 90, endpoints: [], active: [], ...fields };
}

describe("alert rules", () => {
  it("raises queue depth above the threshold, not at it, and resolves below it", () => {
    expect(decideAlerts(input({ pending: 100 })).raise).toEqual([]);
    const raised = decideAlerts(input({ pending: 101, endpoints: [endpoint({ id: "busy", pending: 90 }), endpoint({ id: "calm", pending: 11 })] }));
    expect(raised.raise).toHaveLength(1);
    expect(raised.raise[0]).toMatchObject({ key: QUEUE_DEPTH_KEY, endpointId: "busy" });
    const active = [{ key: QUEUE_DEPTH_KEY, details: {} }];
    expect(decideAlerts(input({ pending: 101, active }))).toEqual({ raise: [], resolve: [], refresh: [] });
    expect(decideAlerts(input({ pending: 100, active })).resolve).toEqual([]);
    expect(decideAlerts(input({ pending: 99, active })).resolve).toEqual([QUEUE_DEPTH_KEY]);
  });

  it("keeps one dead-deliveries alert per endpoint, reopening it when more die", () => {
    const ep = endpoint({ dead: 1, ownerOperatorId: "op" });
    const first = decideAlerts(input({ endpoints: [ep] }));
    expect(first.raise[0]).toMatchObject({ key: deadKey("e1"), endpointId: "e1", operatorId: "op", details: { deadDeliveries: 1 } });
    const more = decideAlerts(input({ endpoints: [{ ...ep, dead: 3 }], active: [{ key: deadKey("e1"), details: { deadDeliveries: 1 } }] }));
    expect(more.raise).toEqual([]);
    expect(more.refresh).toEqual([expect.objectContaining({ key: deadKey("e1"), reopen: true, details: { deadDeliveries: 3 } })]);
    const replayed = decideAlerts(input({ endpoints: [{ ...ep, dead: 0 }], active: [{ key: deadKey("e1"), details: { deadDeliveries: 3 } }] }));
    expect(replayed.resolve).toEqual([deadKey("e1")]);
  });

  it("alerts on endpoints disabled by the engine, not by a person", () => {
    expect(decideAlerts(input({ endpoints: [endpoint({ enabled: false, disabledReason: "MANUAL" })] })).raise).toEqual([]);
    const gone = decideAlerts(input({ endpoints: [endpoint({ enabled: false, disabledReason: "GONE" })] }));
    expect(gone.raise[0]).toMatchObject({ key: disabledKey("e1"), message: expect.stringContaining("410 Gone") });
    expect(decideAlerts(input({ endpoints: [endpoint()], active: [{ key: disabledKey("e1"), details: {} }] })).resolve).toEqual([disabledKey("e1")]);
  });

  it("asks for rotation past the maximum secret age", () => {
    const old = endpoint({ secretCreatedAt: new Date(now.getTime() - 91 * 86_400_000) });
    expect(decideAlerts(input({ endpoints: [old] })).raise[0]).toMatchObject({ key: rotationKey("e1"), details: { secretAgeDays: 91 } });
    expect(decideAlerts(input({ endpoints: [endpoint()] })).raise).toEqual([]);
  });

  it("resolves alerts of endpoints that no longer exist, and leaves other alerts alone", () => {
    const actions = decideAlerts(input({ active: [{ key: deadKey("gone"), details: {} }, { key: "something_else", details: {} }] }));
    expect(actions.resolve).toEqual([deadKey("gone")]);
  });
});
