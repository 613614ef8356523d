import { describe, expect, it } from "vitest";
import { expectedDecision, indexCards, localDateAt } from "./members.ts";

describe("expectedDecision (the sim's own access model)", () => {
  const m = (over: object) => ({ id: "m1", cards: ["62E3086CED"], status: "active" as const, ...over });
  // 2026-01-05 18:59:59Z = 23:59:59 PKT (UTC+5); one second later it is the 6th in Pakistan.
  const lastSecond = Date.UTC(2026, 0, 5, 18, 59, 59);

  it("unknown, suspended, inactive, expired, ok", () => {
    expect(expectedDecision(undefined, lastSecond)).toEqual({ memberId: null, expected: "denied", reason: "unknown_card" });
    expect(expectedDecision(m({ status: "suspended" }), lastSecond).reason).toBe("suspended");
    expect(expectedDecision(m({ status: "inactive" }), lastSecond).reason).toBe("inactive");
    expect(expectedDecision(m({ validUntil: "2026-01-04" }), lastSecond).reason).toBe("plan_expired");
    expect(expectedDecision(m({}), lastSecond)).toEqual({ memberId: "m1", expected: "granted", reason: "ok" });
  });

  it("at an exit reader every known card is granted (nobody is kept in); an unknown one is not", () => {
    expect(expectedDecision(m({ status: "suspended" }), lastSecond, 300, "out")).toEqual({ memberId: "m1", expected: "granted", reason: "ok" });
    expect(expectedDecision(m({ validUntil: "2026-01-04" }), lastSecond, 300, "out").expected).toBe("granted");
    expect(expectedDecision(undefined, lastSecond, 300, "out")).toEqual({ memberId: null, expected: "denied", reason: "unknown_card" });
  });

  it("validUntil is inclusive through the end of that day in Pakistan time", () => {
    expect(localDateAt(lastSecond)).toBe("2026-01-05");
    expect(expectedDecision(m({ validUntil: "2026-01-05" }), lastSecond).reason).toBe("ok");
    expect(expectedDecision(m({ validUntil: "2026-01-05" }), lastSecond + 1000).reason).toBe("plan_expired");
  });

  it("indexes cards case-insensitively", () => {
    expect(indexCards([m({ cards: ["62e3086ced"] })]).get("62E3086CED")?.id).toBe("m1");
  });
});
