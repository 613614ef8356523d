import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, decide, inWindow, isFlaggedGrant, parseHhMm, type AccessMember, type AccessPolicy, type DecideContext } from "./decide.ts";
import { createPresence } from "./presence.ts";

const m = (over: Partial<AccessMember> = {}): AccessMember => ({ id: "m1", cards: ["62E3086CED"], status: "active", staff: false, ...over });
// PKT = UTC+5. 2026-03-31 10:00 PKT = 05:00Z; 22:00 PKT = 17:00Z.
const at = (hPkt: number, day = 31) => Date.UTC(2026, 2, day, hPkt - 5, 0, 0);
const H = 3600_000;
const policy = (over: Partial<AccessPolicy> = {}): AccessPolicy => ({ ...DEFAULT_POLICY, ...over });
const ctx = (over: Partial<DecideContext> = {}): DecideContext => ({ now: at(10), centerId: "lhr-01", ...over });

describe("decide: every denial names its reason", () => {
  it.each<[string, AccessMember | undefined, Partial<DecideContext>, string, string, string[]?]>([
    ["unknown card", undefined, {}, "denied", "unknown_card"],
    ["active, no rules", m(), {}, "granted", "ok"],
    ["suspended", m({ status: "suspended" }), {}, "denied", "suspended"],
    ["suspended beats stale", m({ status: "suspended" }), { cacheAgeMs: 100 * H }, "denied", "suspended"],
    ["center allowed by list", m({ centers: ["lhr-01"] }), {}, "granted", "ok"],
    ["center 'all'", m({ centers: "all" }), {}, "granted", "ok"],
    ["center not allowed", m({ centers: ["khi-01"] }), {}, "denied", "center_not_allowed"],
    ["plan not started (PKT date)", m({ validFrom: "2026-04-01" }), {}, "denied", "plan_not_started"],
    ["plan starts today", m({ validFrom: "2026-03-31" }), {}, "granted", "ok"],
    ["plan expired", m({ validUntil: "2026-03-30" }), {}, "denied", "plan_expired"],
    ["plan ends today", m({ validUntil: "2026-03-31" }), {}, "granted", "ok"],
    ["day schedule at 10:00", m({ schedule: "day" }), {}, "granted", "ok"],
    ["day schedule at 22:00", m({ schedule: "day" }), { now: at(22) }, "denied", "outside_schedule"],
    ["night schedule at 22:00", m({ schedule: "night" }), { now: at(22) }, "granted", "ok"],
    ["night schedule at 03:00 (wraps midnight)", m({ schedule: "night" }), { now: at(3) }, "granted", "ok"],
    ["night schedule at 10:00", m({ schedule: "night" }), {}, "denied", "outside_schedule"],
    ["24x7 at 03:00", m({ schedule: "24x7" }), { now: at(3) }, "granted", "ok"],
    ["staff ignore schedule", m({ schedule: "day", staff: true }), { now: at(22) }, "granted", "ok"],
    ["stale cache → member denied", m(), { cacheAgeMs: 72 * H + 1 }, "denied", "stale_cache"],
    ["cache at the limit is fresh", m(), { cacheAgeMs: 72 * H }, "granted", "ok"],
    ["stale cache → staff in, flagged", m({ staff: true }), { cacheAgeMs: 100 * H }, "granted", "ok", ["stale_cache"]],
    ["capacity deny", m(), { policy: policy({ capacity: 2 }), occupancy: 2 }, "denied", "at_capacity"],
    ["below capacity", m(), { policy: policy({ capacity: 2 }), occupancy: 1 }, "granted", "ok"],
    ["capacity flag mode", m(), { policy: policy({ capacity: 2, capacityMode: "flag" }), occupancy: 5 }, "granted", "ok", ["capacity"]],
    ["staff exempt from capacity", m({ staff: true }), { policy: policy({ capacity: 0 }), occupancy: 5 }, "granted", "ok"],
    ["soft anti-passback: granted, flagged", m(), { alreadyIn: true }, "granted", "ok", ["antipassback"]],
    ["out: known card always leaves", m({ validUntil: "2020-01-01", schedule: "day", status: "suspended" }), { direction: "out", now: at(23) }, "granted", "ok"],
    ["out: unknown card", undefined, { direction: "out" }, "denied", "unknown_card"],
    ["unsynced clock + date rule → flag", m({ validUntil: "2026-12-31" }), { clockSynced: false }, "granted", "ok", ["clock_unsynced"]],
    ["unsynced clock, 24x7 no dates → no flag", m(), { clockSynced: false }, "granted", "ok"],
    ["custom hours: day 09:00-17:00 at 08:30", m({ schedule: "day" }), { now: at(8) + 30 * 60_000, policy: policy({ schedules: { day: { from: 540, to: 1020 }, night: DEFAULT_POLICY.schedules.night } }) }, "denied", "outside_schedule"],
  ])("%s", (_n, member, over, decision, reason, flags) => {
    const d = decide(member, ctx(over));
    expect(d).toEqual({ decision, reason, ...(flags ? { flags } : {}) });
  });

  it("flagged only for capacity grants", () => {
    expect(isFlaggedGrant(decide(m(), ctx({ policy: policy({ capacity: 0, capacityMode: "flag" }) })))).toBe(true);
    expect(isFlaggedGrant(decide(m(), ctx({ alreadyIn: true })))).toBe(false);
  });

  it("windows and HH:MM", () => {
    expect(parseHhMm("08:00")).toBe(480);
    expect(parseHhMm("24:00")).toBeNull();
    expect(inWindow(479, { from: 480, to: 1200 })).toBe(false);
    expect(inWindow(1199, { from: 480, to: 1200 })).toBe(true);
    expect(inWindow(1200, { from: 480, to: 1200 })).toBe(false);
    expect(inWindow(0, { from: 0, to: 0 })).toBe(true);
  });
});

describe("presence (capacity, anti-passback)", () => {
  it("in/out and expiry after the TTL", () => {
    const p = createPresence({ ttlMs: 1000 });
    p.grant("a", "in", 0);
    p.grant("b", "in", 500);
    expect(p.occupancy(600)).toBe(2);
    expect(p.isIn("a", 600)).toBe(true);
    p.grant("a", "out", 700);
    expect(p.isIn("a", 700)).toBe(false);
    expect(p.occupancy(1499)).toBe(1);
    expect(p.occupancy(1500)).toBe(0);
  });
});
