import { describe, expect, it } from "vitest";
import { identityKey } from "./conversion.service";

const base = { eventId: null, clickId: null, customerId: null, event: "ftd" };

describe("identityKey", () => {
  it("is the event_id when given, whatever else the postback says", () => {
    expect(identityKey({ ...base, eventId: "e1", clickId: "c1" })).toBe(identityKey({ ...base, eventId: "e1", customerId: "p9", event: "deposit" }));
  });

  it("is the click, else the customer, with the event, in separate namespaces", () => {
    expect(identityKey({ ...base, clickId: "x", customerId: "p" })).toBe(identityKey({ ...base, clickId: "x" }));
    expect(identityKey({ ...base, clickId: "x" })).not.toBe(identityKey({ ...base, customerId: "x" }));
    expect(identityKey({ ...base, clickId: "x" })).not.toBe(identityKey({ ...base, clickId: "x", event: "deposit" }));
    expect(identityKey({ ...base, eventId: "c:ftd:x" })).not.toBe(identityKey({ ...base, clickId: "x" }));
    // Event names cannot contain ':', so ids with colons cannot collide across events.
    expect(identityKey({ ...base, clickId: "a:b", event: "ftd" })).not.toBe(identityKey({ ...base, clickId: "b", event: "ftd_a" }));
  });
});
