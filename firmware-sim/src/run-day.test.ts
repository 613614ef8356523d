import { afterEach, describe, expect, it, vi } from "vitest";
import type { SimCenter, SimCenterOptions, TapOutcome } from "./center.ts";
import { readerBusySkips } from "./plan-play.ts";
import { planDay, runDay, type ScenarioAction } from "./scenario.ts";

// runDay against a recording fake center, on fake timers: proves it dispatches
// the plan in order at the scaled times and stops on abort, without ptys.
const config = {
  centerId: "lhr-01",
  dir: "/nonexistent",
  seed: 5,
  readers: [
    { id: "in", door: "main", direction: "in" as const },
    { id: "out", door: "main", direction: "out" as const },
  ],
  doors: [{ id: "main", channel: 1 }],
  seats: [{ id: "s1", zone: "z", node: "n-s1", object: "seat_occupied" }],
  members: [
    { id: "m1", cards: ["62E3086CED"], status: "active" as const },
    { id: "m2", cards: ["01026F6C3A"], status: "suspended" as const },
  ],
} satisfies SimCenterOptions;

function fakeCenter(log: Array<{ at: number; what: string }>): SimCenter {
  const t0 = performance.now();
  const rec = (what: string) => log.push({ at: Math.round(performance.now() - t0), what });
  return {
    centerId: config.centerId,
    config,
    devices: { readers: {}, relays: {}, seats: {}, contacts: {}, radars: {} },
    groundTruth: { file: "", write: (r) => ({ t: 0, ...r }) as never, records: () => [] },
    connectSeats: async () => undefined,
    async tap(reader, cardId) {
      rec(`tap ${reader} ${cardId}`);
      const granted = cardId === "62E3086CED";
      return {
        record: { t: 0, kind: "tap", reader, door: "main", direction: "in", cardId, memberId: null, expected: granted ? "granted" : "denied", reason: granted ? "ok" : "suspended", delivered: true },
        firstFrameAt: 0,
        memberId: null,
        expected: granted ? "granted" : "denied",
        reason: granted ? "ok" : "suspended",
      } satisfies TapOutcome;
    },
    async setSeat(seat, occupied) {
      rec(`seat ${seat} ${occupied}`);
    },
    seatOffline: async () => undefined,
    seatOnline: async () => undefined,
    unplug: async () => undefined,
    replug: async () => undefined,
    setMembers: () => undefined,
    stop: async () => undefined,
  };
}

const describeAction = (a: ScenarioAction) =>
  a.kind === "tap" ? `tap ${a.reader} ${a.cardId}` : a.kind === "seat" ? `seat ${a.seat} ${a.occupied}` : a.kind;

afterEach(() => {
  vi.useRealTimers();
});

describe("runDay", () => {
  const rates = { arrivalsPerHour: 20, seatChangesPerHour: 10, mix: { valid: 1, suspended: 1, unknown: 0 } };
  const durationMs = 4 * 3_600_000;

  it("dispatches the seeded plan in order at at/speed, and summarises outcomes", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance", "Date"], now: Date.UTC(2026, 0, 5, 4) });
    const log: Array<{ at: number; what: string }> = [];
    const plan = planDay(config, { seed: 5, durationMs, rates, startAt: Date.now() });
    const done = runDay(fakeCenter(log), { seed: 5, speed: 100, durationMs, rates });
    await vi.advanceTimersByTimeAsync(durationMs / 100 + 1000);
    const s = await done;
    const skip = readerBusySkips(plan, 100);
    const played = plan.filter((_, i) => !skip.has(i));
    expect(log.map((l) => l.what)).toEqual(played.map(describeAction));
    log.forEach((l, i) => expect(Math.abs(l.at - played[i]!.at / 100)).toBeLessThanOrEqual(1));
    expect(s.executed).toBe(played.length);
    expect(s.skippedBusy).toBe(skip.size);
    expect(s.stoppedEarly).toBe(false);
    const taps = played.filter((a) => a.kind === "tap");
    expect(s.taps.total).toBe(taps.length);
    expect(s.taps.denied).toBe(taps.filter((a) => a.kind === "tap" && a.category === "suspended").length);
    expect(s.seatChanges).toBe(plan.filter((a) => a.kind === "seat").length);
  });

  it("stops early on abort", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance", "Date"], now: Date.UTC(2026, 0, 5, 4) });
    const log: Array<{ at: number; what: string }> = [];
    const ac = new AbortController();
    const done = runDay(fakeCenter(log), { seed: 5, speed: 100, durationMs, rates, signal: ac.signal });
    await vi.advanceTimersByTimeAsync(durationMs / 100 / 2);
    ac.abort();
    const s = await done;
    expect(s.stoppedEarly).toBe(true);
    expect(s.executed).toBe(log.length);
    expect(s.executed).toBeLessThan(s.planned);
    expect(s.executed).toBeGreaterThan(0);
  });

  it("reader-busy skips come from the plan and the speed, not from how slow the device was", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance", "Date"], now: Date.UTC(2026, 0, 5, 4) });
    const plan = planDay(config, { seed: 5, durationMs, rates, startAt: Date.now() });
    const skip = readerBusySkips(plan, 2000);
    expect(skip.size).toBeGreaterThan(0); // at 2000x a 350 ms hold covers ~12 sim minutes
    const results = [];
    for (const tapMs of [0, 10_000]) {
      const log: Array<{ at: number; what: string }> = [];
      const c = fakeCenter(log);
      const fastTap = c.tap.bind(c);
      // tapMs of wall time per tap: a slow box, or a reader stuck in its queue.
      c.tap = (reader, card) => new Promise((r) => setTimeout(r, tapMs)).then(() => fastTap(reader, card));
      const done = runDay(c, { seed: 5, speed: 2000, durationMs, rates });
      await vi.advanceTimersByTimeAsync(durationMs / 2000 + 600_000);
      const s = await done;
      expect(s.skippedBusy).toBe(skip.size);
      expect(s.executed + s.skippedBusy).toBe(plan.length);
      results.push(log.map((l) => l.what).sort());
    }
    expect(results[1]).toEqual(results[0]);
  });
});
