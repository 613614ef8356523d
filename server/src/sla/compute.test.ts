import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PowerSource } from "../../../protocol/events.ts";
import { computeCenterSla } from "./compute.ts";
import type { Cause, SlaInput, Status } from "./compute.ts";
import { normalize } from "./intervals.ts";
import type { Interval } from "./intervals.ts";

const SOURCES: PowerSource[] = ["mains", "generator", "battery", "low_battery", "down", "unknown"];
const iv = fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 80 })).map(([s, d]) => ({ start: s, end: s + d }));
const sorted = <T extends { t: number }>(xs: T[]) => [...xs].sort((a, b) => a.t - b.t);

const inputArb = fc
  .record({
    operating: fc.array(iv, { maxLength: 6 }),
    closures: fc.array(iv, { maxLength: 2 }),
    shed: fc.array(iv, { maxLength: 2 }),
    power: fc.array(fc.record({ t: fc.integer({ min: -20, max: 320 }), state: fc.constantFrom(...SOURCES) }), { maxLength: 12 }),
    uplink: fc.array(fc.record({ t: fc.integer({ min: -20, max: 320 }), state: fc.constantFrom("up" as const, "down" as const) }), { maxLength: 8 }),
    dark: fc.array(iv, { maxLength: 4 }),
    infer: fc.boolean(),
    excludeShed: fc.boolean(),
  })
  .map(
    (r): SlaInput => ({
      centerId: "c1",
      period: { start: 0, end: 320 },
      calendar: { operating: normalize(r.operating), closures: normalize(r.closures), loadShedding: normalize(r.shed) },
      power: sorted(r.power),
      uplink: sorted(r.uplink),
      dark: r.dark,
      opts: { inferUpsExhausted: r.infer, minOutageMs: 0, excludeLoadShedding: r.excludeShed },
    }),
  );

/** Independent oracle: classify each unit cell [k, k+1) from scratch. */
function oracle(input: SlaInput, k: number): { status: Status; cause: Cause | null } | null {
  const inside = (xs: readonly Interval[]) => xs.some((i) => i.start <= k && k < i.end);
  if (!inside(input.calendar.operating) || k < input.period.start || k >= input.period.end) return null;
  const powerBefore = input.power.filter((c) => c.t <= k);
  const src = powerBefore.length ? powerBefore[powerBefore.length - 1]!.state : "unknown";
  const lastPowered = [...powerBefore].reverse().find((c) => c.state !== "down" && c.state !== "unknown")?.state ?? null;
  const upBefore = input.uplink.filter((c) => c.t <= k);
  const first = input.uplink[0];
  let up: "up" | "down" | null = upBefore.length ? upBefore[upBefore.length - 1]!.state : null;
  if (!upBefore.length && first && first.t > input.period.start) up = first.state === "up" ? "down" : "up";
  if (inside(input.dark)) {
    return input.opts.inferUpsExhausted && src === "low_battery" ? { status: "down", cause: "ups_exhausted" } : { status: "unknown", cause: "edge_dark" };
  }
  if (src === "down")
    return { status: "down", cause: lastPowered === "generator" ? "generator" : lastPowered === "battery" || lastPowered === "low_battery" ? "ups_exhausted" : "mains_cut" };
  if (src === "unknown") return { status: "unknown", cause: "power_unknown" };
  if (up === "down") return { status: "down", cause: "internet" };
  if (up === null) return { status: "unknown", cause: "internet_unknown" };
  return { status: "up", cause: null };
}

describe("computeCenterSla", () => {
  it("matches a cell-by-cell oracle (status totals, per-cause time)", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const r = computeCenterSla(input);
        const tot = { up: 0, down: 0, unknown: 0 };
        const byCause: Partial<Record<Cause, number>> = {};
        for (let k = 0; k < 320; k++) {
          const o = oracle(input, k);
          if (!o) continue;
          tot[o.status]++;
          if (o.cause) byCause[o.cause] = (byCause[o.cause] ?? 0) + 1;
        }
        expect({ up: r.all.upMs, down: r.all.downMs, unknown: r.all.unknownMs }).toEqual(tot);
        const got: Partial<Record<Cause, number>> = {};
        for (const [c, v] of Object.entries(r.all.outages.byCause)) got[c as Cause] = v.ms;
        expect(got).toEqual(byCause);
      }),
      { numRuns: 300 },
    );
  });

  it("up + down + unknown = operating time; percentages in [0, 100]; excluded + kept = operating", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const r = computeCenterSla(input);
        for (const f of [r.all, r.excluding]) {
          expect(f.upMs + f.downMs + f.unknownMs).toBe(f.operatingMs);
          expect(f.power.mainsMs + f.power.generatorMs + f.power.batteryMs + f.power.downMs + f.power.unknownMs).toBe(f.operatingMs);
          expect(f.internet.upMs + f.internet.downMs + f.internet.unknownMs).toBe(f.operatingMs);
          for (const p of [f.availabilityPct, f.completenessPct, f.power.availabilityPct, f.internet.availabilityPct])
            if (p !== null) expect(p >= 0 && p <= 100).toBe(true);
        }
        expect(r.excluding.operatingMs + r.excludedMs).toBe(r.all.operatingMs);
        // Outages tile the non-up time.
        expect(r.outages.reduce((s, o) => s + o.durationMs, 0)).toBe(r.all.downMs + r.all.unknownMs);
      }),
      { numRuns: 300 },
    );
  });

  it("splitting the period and summing the halves equals the whole", () => {
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 1, max: 319 }), (input, m) => {
        const whole = computeCenterSla(input);
        const a = computeCenterSla({ ...input, period: { start: 0, end: m } });
        const b = computeCenterSla({ ...input, period: { start: m, end: 320 } });
        for (const k of ["operatingMs", "upMs", "downMs", "unknownMs"] as const) expect(a.all[k] + b.all[k]).toBe(whole.all[k]);
        for (const k of ["mainsMs", "generatorMs", "batteryMs", "downMs", "unknownMs"] as const)
          expect(a.all.power[k] + b.all.power[k]).toBe(whole.all.power[k]);
        expect(a.excluding.upMs + b.excluding.upMs).toBe(whole.excluding.upMs);
      }),
      { numRuns: 300 },
    );
  });

  it("names causes: generator failure, UPS exhausted, WAN outage during a mains cut on battery", () => {
    const r = computeCenterSla({
      centerId: "c1",
      period: { start: 0, end: 1000 },
      calendar: { operating: [{ start: 0, end: 1000 }], closures: [{ start: 900, end: 1000 }], loadShedding: [] },
      power: [
        { t: 0, state: "mains" },
        { t: 100, state: "generator" },
        { t: 200, state: "down" },
        { t: 250, state: "battery" },
        { t: 300, state: "low_battery" },
        { t: 400, state: "mains" },
      ],
      uplink: [
        { t: 0, state: "up" },
        { t: 260, state: "down" },
        { t: 280, state: "up" },
      ],
      dark: [{ start: 320, end: 380 }, { start: 600, end: 620 }],
      opts: { inferUpsExhausted: true, minOutageMs: 0, excludeLoadShedding: true },
    });
    expect(r.outages.map((o) => [o.start, o.end, o.cause, o.counted])).toEqual([
      [200, 250, "generator", "down"],
      [260, 280, "internet", "down"],
      [320, 380, "ups_exhausted", "down"],
      [600, 620, "edge_dark", "unknown"],
    ]);
    expect(r.all.power).toMatchObject({ mainsMs: 100 + 600 - 20, generatorMs: 100, batteryMs: 150 - 60, downMs: 50 + 60, unknownMs: 20 });
    expect(r.all.availabilityPct).toBeCloseTo((100 * (1000 - 130 - 20)) / (1000 - 20), 10);
    expect(r.excluding.operatingMs).toBe(900);
  });
});
