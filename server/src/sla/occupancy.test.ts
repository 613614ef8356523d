import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pktToUtc } from "./calendar.ts";
import { computeOccupancy, presence } from "./occupancy.ts";
import type { SeatInput } from "./occupancy.ts";

const H = 3_600_000;
const M = 60_000;
const day = pktToUtc("2026-03-02T00:00"); // a Monday
const period = { start: day, end: day + 24 * H };
const operating = [{ start: day + 9 * H, end: day + 21 * H }];
const opts = { ghostAfterMs: 120 * M, presenceMaxMs: 12 * H };

describe("occupancy", () => {
  it("utilization, zones, peaks, heatmap on a hand-computed day", () => {
    const seats: SeatInput[] = [
      // A1 occupied 10:00–14:00 (4 h), A2 occupied 08:00 (before opening) – 10:00 → 1 h inside hours.
      { seat: "A1", zone: "A", changes: [{ t: day + 10 * H, state: "occupied" }, { t: day + 14 * H, state: "vacant" }] },
      { seat: "A2", zone: "A", changes: [{ t: day + 8 * H, state: "occupied" }, { t: day + 10 * H, state: "vacant" }] },
      // B1 never reported: unknown all day, never occupied.
      { seat: "B1", zone: "B", changes: [] },
    ];
    const badges = [
      { t: day + 9 * H + 55 * M, direction: "in" as const, who: "m:1" },
      { t: day + 15 * H, direction: "out" as const, who: "m:1" },
    ];
    const r = computeOccupancy({ centerId: "c", period, operating, seats, badges, opts });
    expect(r.occupiedSeatMs).toBe(5 * H);
    expect(r.utilizationPct).toBeCloseTo((100 * 5) / (3 * 12), 10);
    expect(r.zones).toEqual([
      { zone: "A", seats: 2, occupiedSeatMs: 5 * H, utilizationPct: (100 * 5) / 24 },
      { zone: "B", seats: 1, occupiedSeatMs: 0, utilizationPct: 0 },
    ]);
    expect(r.daily[0]).toMatchObject({ date: "2026-03-02", peakSeats: 1, peakPeople: 1, checkIns: 1 });
    expect(r.heatmap[1]![10]).toBe(1); // Monday 10:00–11:00 PKT: A1
    expect(r.heatmap[1]![8]).toBe(1); // A2 before opening still shows in the curve
    expect(r.curve).toHaveLength(24);
    // A2 taken at 08:00 with nobody checked in: a tailgating suspect. A1 at 10:00: m:1 is in.
    expect(r.tailgating.map((x) => x.seat)).toEqual(["A2"]);
    expect(r.ghostCheckIns).toEqual([]);
  });

  it("a check-in with no seat taken for two hours is a ghost", () => {
    const r = computeOccupancy({
      centerId: "c",
      period,
      operating,
      seats: [{ seat: "A1", zone: "A", changes: [{ t: day, state: "vacant" }, { t: day + 13 * H, state: "occupied" }] }],
      badges: [{ t: day + 10 * H, direction: "in", who: "m:ghost" }],
      opts,
    });
    expect(r.ghostCheckIns).toEqual([{ t: day + 10 * H, who: "m:ghost" }]);
    expect(r.tailgating).toEqual([]);
  });

  it("presence: out closes, repeated in is ignored, missing out is capped", () => {
    expect(
      presence(
        [
          { t: 0, direction: "in", who: "a" },
          { t: 5, direction: "in", who: "a" },
          { t: 10, direction: "out", who: "a" },
          { t: 20, direction: "in", who: "b" },
        ],
        100,
      ),
    ).toEqual([
      { who: "a", start: 0, end: 10 },
      { who: "b", start: 20, end: 120 },
    ]);
  });

  it("properties: utilization in [0,100]; occupied seat-time ≤ seats × operating; curve mean × hours = occupied time", () => {
    const seatArb = fc.array(
      fc.record({
        zone: fc.constantFrom("A", "B"),
        changes: fc.array(fc.record({ t: fc.integer({ min: -2 * H, max: 26 * H }), state: fc.constantFrom("occupied" as const, "vacant" as const, "unknown" as const) }), { maxLength: 8 }),
      }),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(seatArb, (raw) => {
        const seats = raw.map((s, i) => ({ seat: `S${i}`, zone: s.zone, changes: s.changes.map((c) => ({ ...c, t: day + c.t })).sort((a, b) => a.t - b.t) }));
        const all = [{ start: period.start, end: period.end }];
        const r = computeOccupancy({ centerId: "c", period, operating: all, seats, badges: [], opts });
        expect(r.utilizationPct! >= 0 && r.utilizationPct! <= 100 + 1e-9).toBe(true);
        expect(r.occupiedSeatMs).toBeLessThanOrEqual(seats.length * 24 * H);
        const fromCurve = r.curve.reduce((s, c) => s + c.seatsOccupied * H, 0);
        expect(Math.abs(fromCurve - r.occupiedSeatMs)).toBeLessThanOrEqual(24 * 0.0005 * H + 1);
        expect(r.zones.reduce((s, z) => s + z.occupiedSeatMs, 0)).toBe(r.occupiedSeatMs);
      }),
      { numRuns: 200 },
    );
  });
});
