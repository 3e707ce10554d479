import { describe, expect, it } from "vitest";
import { ANONYMOUS, ApiKeyRole, type Viewer } from "./viewer";
import { isVisible, narrowScope, scopeKey, scopeOf } from "./tenant-scope";

function key(role: ApiKeyRole, operatorId: string | null = null, affiliateId: string | null = null): Viewer {
  return { kind: "key", apiKeyId: "k", role, operatorId, affiliateId };
}

const admin = key(ApiKeyRole.ADMIN);
const operatorA = key(ApiKeyRole.OPERATOR, "op-a");
const affiliateX = key(ApiKeyRole.AFFILIATE, null, "aff-x");

describe("tenant scope of live events", () => {
  it("admin sees everything, a tenant key only its own tenant's events", () => {
    const events = [
      { operatorId: "op-a", affiliateId: "aff-x" },
      { operatorId: "op-b", affiliateId: "aff-x" },
      { operatorId: "op-a", affiliateId: "aff-y" },
      { operatorId: null, affiliateId: null },
    ];
    expect(events.map((event) => isVisible(scopeOf(admin), event))).toEqual([true, true, true, true]);
    expect(events.map((event) => isVisible(scopeOf(operatorA), event))).toEqual([true, false, true, false]);
    expect(events.map((event) => isVisible(scopeOf(affiliateX), event))).toEqual([true, true, false, false]);
  });

  it("optional arguments narrow but never widen", () => {
    const narrowed = narrowScope(admin, { operatorId: "op-b" });
    expect(isVisible(narrowed.scope, { operatorId: "op-b" }, narrowed.filter)).toBe(true);
    expect(isVisible(narrowed.scope, { operatorId: "op-a" }, narrowed.filter)).toBe(false);

    const own = narrowScope(operatorA, { operatorId: "op-a", affiliateId: "aff-y" });
    expect(isVisible(own.scope, { operatorId: "op-a", affiliateId: "aff-y" }, own.filter)).toBe(true);
    expect(isVisible(own.scope, { operatorId: "op-a", affiliateId: "aff-x" }, own.filter)).toBe(false);
  });

  it("refuses a tenant key that names another tenant with FORBIDDEN", () => {
    expect(() => narrowScope(operatorA, { operatorId: "op-b" })).toThrow(expect.objectContaining({ code: "FORBIDDEN" }));
    expect(() => narrowScope(affiliateX, { affiliateId: "aff-y" })).toThrow(expect.objectContaining({ code: "FORBIDDEN" }));
    expect(() => scopeOf(key(ApiKeyRole.OPERATOR))).toThrow(expect.objectContaining({ code: "FORBIDDEN" }));
    expect(() => scopeOf(ANONYMOUS)).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
  });

  it("gives subscribers who see the same data the same feed key", () => {
    expect(scopeKey(scopeOf(admin))).toBe("all");
    expect(scopeKey(scopeOf(operatorA))).toBe(scopeKey(scopeOf(key(ApiKeyRole.OPERATOR, "op-a"))));
    expect(scopeKey(scopeOf(operatorA))).not.toBe(scopeKey(scopeOf(key(ApiKeyRole.OPERATOR, "op-b"))));
  });
});
