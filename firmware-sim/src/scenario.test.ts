import { describe, expect, it } from "vitest";
import { planDay } from "./scenario.ts";
import type { SimCenterOptions } from "./center.ts";

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const center: Pick<SimCenterOptions, "readers" | "seats" | "members"> = {
  readers: [
    { id: "r-in", door: "main", direction: "in" },
    { id: "r-out", door: "main", direction: "out" },
  ],
  seats: [
    { id: "s1", zone: "z1", node: "seat-s1", object: "seat_occupied" },
    { id: "s2", zone: "z1", node: "seat-s2", object: "seat_occupied" },
  ],
  members: [
    { id: "m1", cards: ["62E3086CED"], status: "active" },
    { id: "m2", cards: ["01026F6C3A"], status: "active", validUntil: "2026-01-06" },
    { id: "m3", cards: ["0801161DD6"], status: "suspended" },
    { id: "m4", cards: ["1111111111"], status: "active", validUntil: "2026-01-04" },
  ],
};
const opts = { durationMs: 8 * 3_600_000, startAt: START, rates: { arrivalsPerHour: 30, seatChangesPerHour: 40, sensorDropsPerHour: 1 } };

describe("planDay", () => {
  it("same seed → identical action list twice", () => {
    const a = planDay(center, { seed: 1234, ...opts });
    const b = planDay(center, { seed: 1234, ...opts });
    expect(a.length).toBeGreaterThan(100);
    expect(b).toEqual(a);
  });

  it("different seed → different list", () => {
    expect(planDay(center, { seed: 1, ...opts })).not.toEqual(planDay(center, { seed: 2, ...opts }));
  });

  it("is sorted, inside the day, and uses every card category", () => {
    const a = planDay(center, { seed: 99, ...opts });
    for (let i = 1; i < a.length; i++) expect(a[i]!.at).toBeGreaterThanOrEqual(a[i - 1]!.at);
    expect(a.every((x) => x.at >= 0 && x.at < opts.durationMs)).toBe(true);
    const cats = new Set(a.flatMap((x) => (x.kind === "tap" ? [x.category] : [])));
    expect([...cats].sort()).toEqual(["expired", "suspended", "unknown", "valid"]);
  });

  it("categorises cards by member state; unknown cards are not members'", () => {
    const a = planDay(center, { seed: 5, ...opts });
    const known = new Set(center.members.flatMap((m) => m.cards));
    for (const x of a) {
      if (x.kind !== "tap") continue;
      if (x.category === "unknown") expect(known.has(x.cardId)).toBe(false);
      if (x.category === "expired") expect(x.cardId).toBe("1111111111");
      if (x.category === "suspended") expect(x.cardId).toBe("0801161DD6");
      if (x.category === "valid") expect(["62E3086CED", "01026F6C3A"]).toContain(x.cardId);
    }
  });

  it("only valid cards tap out, at the out reader; seats alternate ON/OFF per seat", () => {
    const a = planDay(center, { seed: 77, ...opts });
    for (const x of a) if (x.kind === "tap" && x.reader === "r-out") expect(x.category).toBe("valid");
    const last = new Map<string, boolean>();
    for (const x of a) {
      if (x.kind !== "seat") continue;
      expect(x.occupied).toBe(!(last.get(x.seat) ?? false));
      last.set(x.seat, x.occupied);
    }
  });
});
