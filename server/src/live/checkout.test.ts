import { describe, expect, it } from "vitest";
import { createLiveState } from "./state.ts";
import { lastCutoff, nextCutoff, createCheckoutPolicy, tzOffsetMs } from "./checkout.ts";

const KHI = "Asia/Karachi";

describe("cut-off times", () => {
  it("Karachi is UTC+5; 04:00 PKT = 23:00 UTC the day before", () => {
    expect(tzOffsetMs(Date.UTC(2026, 0, 15, 12), KHI)).toBe(5 * 3600_000);
    const at = Date.UTC(2026, 0, 15, 0, 30); // 05:30 PKT on the 15th
    expect(new Date(lastCutoff(at, "04:00", KHI)).toISOString()).toBe("2026-01-14T23:00:00.000Z");
    expect(new Date(nextCutoff(at, "04:00", KHI)).toISOString()).toBe("2026-01-15T23:00:00.000Z");
    const before = Date.UTC(2026, 0, 14, 22, 59); // 03:59 PKT
    expect(new Date(lastCutoff(before, "04:00", KHI)).toISOString()).toBe("2026-01-13T23:00:00.000Z");
    expect(lastCutoff(Date.UTC(2026, 0, 14, 23), "04:00", KHI)).toBe(Date.UTC(2026, 0, 14, 23)); // exactly at
  });

  it("works across a DST change (Europe/London spring forward)", () => {
    const at = Date.UTC(2026, 2, 29, 12); // 29 Mar 2026: BST starts 01:00 UTC
    expect(new Date(lastCutoff(at, "04:00", "Europe/London")).toISOString()).toBe("2026-03-29T03:00:00.000Z");
    expect(new Date(nextCutoff(Date.UTC(2026, 2, 28, 12), "04:00", "Europe/London")).toISOString()).toBe("2026-03-29T03:00:00.000Z");
  });
});

describe("createCheckoutPolicy + live state", () => {
  const badge = (seq: number, ts: number, memberId: string, centerId = "isb-01") =>
    ({ v: 1, centerId, bootId: "boot-abc1", seq, ts, mono: seq, synced: true, type: "badge", door: "main", reader: "r1", direction: "in", cardId: "0A0B0C0D0E", memberId, decision: "granted", reason: "ok", flagged: false }) as const;

  it("people-in empties at 04:00 PKT; later check-ins count; replayed old badges do not bring anyone back", () => {
    let now = Date.UTC(2026, 0, 14, 15); // 20:00 PKT
    const start = now;
    const live = createLiveState({ checkoutCutoff: createCheckoutPolicy({ defaultAt: "04:00", timeZone: KHI, now: () => now }) });
    live.apply(badge(1, start - 60_000, "m-1"));
    live.apply(badge(2, start, "m-2"));
    expect(live.center("isb-01")?.peopleInCount).toBe(2);
    now = Date.UTC(2026, 0, 14, 23) - 1; // 03:59:59.999
    expect(live.center("isb-01")?.peopleInCount).toBe(2);
    now += 1;
    expect(live.center("isb-01")?.peopleInCount).toBe(0);
    live.apply(badge(1, start - 60_000, "m-1")); // replay
    live.apply(badge(3, now + 3_600_000, "m-3"));
    expect(live.center("isb-01")?.peopleIn.map((p) => p.memberId)).toEqual(["m-3"]);
    now += 24 * 3600_000; // next night
    expect(live.center("isb-01")?.peopleInCount).toBe(0);
  });

  it("a server started mid-morning does not show last night's people", () => {
    const now = Date.UTC(2026, 0, 15, 4); // 09:00 PKT
    const live = createLiveState({ checkoutCutoff: createCheckoutPolicy({ defaultAt: "04:00", timeZone: KHI, now: () => now }) });
    live.apply(badge(1, Date.UTC(2026, 0, 14, 16), "m-1")); // 21:00 PKT yesterday
    live.apply(badge(2, Date.UTC(2026, 0, 15, 3), "m-2")); // 08:00 PKT today
    expect(live.center("isb-01")?.peopleIn.map((p) => p.memberId)).toEqual(["m-2"]);
  });

  it("each center's own autoCheckoutAt wins over the server default; centers without one use the default", () => {
    let now = Date.UTC(2026, 0, 14, 18, 30); // 23:30 PKT
    const own: Record<string, string> = { "lhr-01": "23:00", "khi-01": "23:59" };
    const policy = createCheckoutPolicy({ defaultAt: "04:00", timeZone: KHI, now: () => now, centerAt: (id) => own[id] });
    const live = createLiveState({ checkoutCutoff: policy });
    const at2215 = Date.UTC(2026, 0, 14, 17, 15); // 22:15 PKT
    for (const c of ["lhr-01", "khi-01", "isb-01"]) live.apply(badge(1, at2215, "m-1", c));
    // lhr-01 checked out at 23:00; khi-01 (23:59) and isb-01 (default 04:00) not yet.
    expect(["lhr-01", "khi-01", "isb-01"].map((c) => live.center(c)?.peopleInCount)).toEqual([0, 1, 1]);
    now = Date.UTC(2026, 0, 14, 19, 0); // 00:00 PKT
    expect(["lhr-01", "khi-01", "isb-01"].map((c) => live.center(c)?.peopleInCount)).toEqual([0, 0, 1]);
    now = Date.UTC(2026, 0, 14, 23, 0); // 04:00 PKT
    expect(["lhr-01", "khi-01", "isb-01"].map((c) => live.center(c)?.peopleInCount)).toEqual([0, 0, 0]);
    expect(policy("isb-01")).toBe(Date.UTC(2026, 0, 14, 23, 0));
    expect(policy("lhr-01")).toBe(Date.UTC(2026, 0, 14, 18, 0));
  });
});
