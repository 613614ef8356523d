import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSlaCache } from "./cache.ts";
import { pktToUtc } from "./calendar.ts";
import { combineSlices, emptySlice, pktDays } from "./timelines.ts";
import type { SliceFacts } from "./timelines.ts";

/** Slice facts of heartbeat instants as InfluxDB would give them for [a, b). */
function factsOf(beats: readonly number[], a: number, b: number, gap: number): SliceFacts {
  const xs = beats.filter((t) => t >= a && t < b);
  return {
    ...emptySlice(),
    first: xs[0] ?? null,
    last: xs.at(-1) ?? null,
    gaps: xs.slice(1).flatMap((t, i) => (t - (xs[i] as number) > gap ? [{ start: xs[i] as number, end: t }] : [])),
    power: xs.filter((t) => t % 7 === 0).map((t) => ({ t, device: t % 3 ? "ups" : "inverter", source: t % 2 ? "mains" : "battery" })),
  };
}

describe("combineSlices", () => {
  it("facts of contiguous slices compose to the facts of the whole window (heartbeat gaps across the cuts included)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 999 }), { maxLength: 60 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 999 }), { maxLength: 6 }),
        fc.integer({ min: 1, max: 60 }),
        (raw, rawCuts, gap) => {
          const beats = [...raw].sort((x, y) => x - y);
          const cuts = [0, ...[...rawCuts].sort((x, y) => x - y), 1000];
          const slices = cuts.slice(1).map((b, i) => factsOf(beats, cuts[i] as number, b, gap));
          const whole = factsOf(beats, 0, 1000, gap);
          const got = combineSlices(slices, gap);
          expect({ ...got, gaps: [...got.gaps].sort((x, y) => x.start - y.start) }).toEqual(whole);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("pktDays cuts a period at PKT midnights", () => {
    const p = { start: pktToUtc("2026-03-01"), end: pktToUtc("2026-03-03T12:00") };
    expect(pktDays(p)).toEqual([
      { start: pktToUtc("2026-03-01"), end: pktToUtc("2026-03-02") },
      { start: pktToUtc("2026-03-02"), end: pktToUtc("2026-03-03") },
      { start: pktToUtc("2026-03-03"), end: pktToUtc("2026-03-03T12:00") },
    ]);
  });
});

describe("SlaCache", () => {
  const day = { start: pktToUtc("2026-03-05"), end: pktToUtc("2026-03-06") };
  const f = (first: number): SliceFacts => ({ ...emptySlice(), first, last: first + 10 });
  const reader = (data: Record<string, SliceFacts>) => {
    const calls: (readonly string[] | "all")[] = [];
    return {
      calls,
      read: async (cs: readonly string[] | "all") => {
        calls.push(cs);
        return new Map(Object.entries(data).filter(([c]) => cs === "all" || cs.includes(c)));
      },
    };
  };

  it("reads a day once; explicit centers are served from an 'all' read; a center without data is known empty", async () => {
    const cache = createSlaCache();
    const r = reader({ a: f(day.start + 1), b: f(day.start + 2) });
    expect([...(await cache.day("all", day, r.read)).keys()].sort()).toEqual(["a", "b"]);
    expect([...(await cache.day("all", day, r.read)).keys()].sort()).toEqual(["a", "b"]);
    expect([...(await cache.day(["a", "silent"], day, r.read)).keys()]).toEqual(["a"]);
    expect(r.calls).toEqual(["all"]);
    expect(cache.stats()).toMatchObject({ days: 1, misses: 2, invalidations: 0 });
    // Another variant (gap threshold) is another entry.
    await cache.day("all", day, r.read, "90000");
    expect(r.calls).toEqual(["all", "all"]);
  });

  it("late data for a center-day: only that center is read again, for that day; other kinds and other days do nothing", async () => {
    const cache = createSlaCache();
    const data: Record<string, SliceFacts> = { a: f(day.start + 1), b: f(day.start + 2) };
    const r = reader(data);
    await cache.day("all", day, r.read);
    cache.onStored([
      { centerId: "a", ts: day.start + 3_600_000, type: "badge" }, // occupancy only: no SLA input
      { centerId: "a", ts: day.start - 1, type: "heartbeat" }, // the day before: not cached
    ]);
    await cache.day("all", day, r.read);
    expect(r.calls).toEqual(["all"]);
    data.a = f(day.start + 5);
    cache.onStored([
      { centerId: "a", ts: day.start + 3_600_000, type: "uplink" },
      { centerId: "a", ts: day.start + 7_200_000, type: "heartbeat" },
      { centerId: "c", ts: day.end - 1, type: "power" }, // a center never seen that day
    ]);
    data.c = f(day.start + 9);
    const got = await cache.day("all", day, r.read);
    expect(r.calls.at(-1)).toEqual(["a", "c"]);
    expect(got.get("a")?.first).toBe(day.start + 5);
    expect(got.get("c")?.first).toBe(day.start + 9);
    expect(got.get("b")?.first).toBe(day.start + 2);
    expect(cache.stats().invalidations).toBe(2);
    await cache.day("all", day, r.read);
    expect(r.calls).toHaveLength(2);
  });

  it("an invalidation during a read: the read serves its build but is not remembered", async () => {
    const cache = createSlaCache();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const reads: (readonly string[] | "all")[] = [];
    const slow = async (cs: readonly string[] | "all") => {
      reads.push(cs);
      if (reads.length === 1) await gate;
      return new Map([["a", f(day.start + reads.length)]]);
    };
    const first = cache.day("all", day, slow);
    cache.invalidate("a", day.start + 1000); // the late event lands while InfluxDB is being read
    release();
    expect((await first).get("a")?.first).toBe(day.start + 1);
    expect((await cache.day("all", day, slow)).get("a")?.first).toBe(day.start + 2); // read again
    expect(reads).toEqual(["all", ["a"]]);
  });

  it("keeps at most maxDays days (oldest out)", async () => {
    const cache = createSlaCache({ maxDays: 2 });
    const r = reader({ a: f(1) });
    for (let k = 0; k < 3; k++) await cache.day("all", { start: day.start + k * 86_400_000, end: day.end + k * 86_400_000 }, r.read);
    expect(cache.stats().days).toBe(2);
    await cache.day("all", day, r.read);
    expect(r.calls).toHaveLength(4); // the first day was evicted
  });
});
