import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { openGroundTruth, readGroundTruth } from "./ground-truth.ts";
import { defaultLayout } from "./layout.ts";
import { planCenterDay } from "./scenario-day.ts";
import { mainsOutages, planInternet, planPower, type PowerAction } from "./scenario-power.ts";
import { runScenario, type ScenarioStep } from "./scenario-run.ts";

const START = Date.UTC(2026, 0, 5, 1, 0, 0); // 06:00 PKT
const HOUR = 3_600_000;
const layout = defaultLayout("lhr-01", 11, { seats: 10, members: 60, now: START });

describe("planCenterDay", () => {
  const day = (seed: number, extra = {}) => planCenterDay(layout, { seed, startAt: START, startHour: 6, ...extra });

  it("same seed → same day; another seed → another", () => {
    expect(day(1)).toEqual(day(1));
    expect(day(1)).not.toEqual(day(2));
  });

  it("day members arrive within opening hours on a morning peak; night shift arrives in the evening", () => {
    const a = day(3, { nightShare: 0.2, tailgateChance: 0 });
    const hourOf = (at: number) => 6 + at / HOUR;
    const enters = a.filter((x) => x.kind === "person" && x.event === "enter");
    const dayEnters = enters.filter((x) => hourOf(x.at) < 20);
    const night = enters.filter((x) => hourOf(x.at) >= 20);
    expect(dayEnters.every((x) => hourOf(x.at) >= 8 && hourOf(x.at) < 21.1)).toBe(true);
    expect(night.length).toBeGreaterThan(0);
    const morning = dayEnters.filter((x) => hourOf(x.at) < 11).length;
    const evening = dayEnters.filter((x) => hourOf(x.at) >= 17).length;
    expect(morning).toBeGreaterThan(evening);
  });

  it("every tap by a valid member is paired with a person record; refused cards never enter", () => {
    const a = day(4, { deniedVisits: 20 });
    const denied = a.filter((x) => x.kind === "tap" && x.category !== "valid");
    expect(denied.length).toBeGreaterThanOrEqual(20);
    expect(new Set(denied.map((x) => (x.kind === "tap" ? x.category : ""))).size).toBeGreaterThan(1);
    const members = new Set(a.flatMap((x) => (x.kind === "person" ? [x.memberId] : [])));
    for (const d of denied) if (d.kind === "tap") expect(layout.members.find((m) => m.cards.includes(d.cardId))?.id ?? null).not.toBeOneOf([...members].filter(Boolean));
  });

  it("tailgaters enter and sit without any tap; forgotten check-outs leave without an out tap", () => {
    const a = day(5, { tailgateChance: 0.5, forgotCheckoutChance: 0.5, durationMs: 48 * HOUR });
    const tg = a.filter((x) => x.kind === "person" && x.via === "tailgate" && x.event === "enter");
    expect(tg.length).toBeGreaterThan(0);
    expect(tg.every((x) => x.kind === "person" && x.memberId === null)).toBe(true);
    expect(tg.some((x) => x.kind === "person" && typeof x.seat === "string")).toBe(true);
    const forgot = a.filter((x) => x.kind === "person" && x.via === "no_checkout");
    expect(forgot.length).toBeGreaterThan(0);
    for (const f of forgot) {
      if (f.kind !== "person" || !f.memberId) continue;
      const card = layout.members.find((m) => m.id === f.memberId)?.cards[0];
      const outTaps = a.filter((x) => x.kind === "tap" && x.cardId === card && x.reader === "main-out");
      expect(outTaps).toHaveLength(0);
    }
  });

  it("a full center: more people than seats, seats never double-booked, the rest get no seat", () => {
    const a = day(6, { full: true, visits: 30, tailgateChance: 0 });
    const occ = new Map<string, boolean>();
    for (const x of a) {
      if (x.kind !== "seat") continue;
      expect(occ.get(x.seat) ?? false).toBe(!x.occupied); // strictly alternates per seat
      occ.set(x.seat, x.occupied);
    }
    const enters = a.filter((x) => x.kind === "person" && x.event === "enter");
    expect(enters.filter((x) => x.kind === "person" && x.seat === null).length).toBeGreaterThan(0);
  });
});

describe("planPower / planInternet", () => {
  const opts = { seed: 9, durationMs: 24 * HOUR, startHour: 6, unscheduledPerDay: 2 };

  it("load-shedding blocks at 10:00 and 16:00 local, merged with unscheduled cuts; same seed → same", () => {
    const outs = mainsOutages({ ...opts, unscheduledPerDay: 0 });
    expect(outs.map((o) => [o.from / HOUR + 6, o.to / HOUR + 6])).toEqual([
      [10, 12],
      [16, 18],
    ]);
    expect(planPower(opts)).toEqual(planPower(opts));
    expect(planPower(opts)).not.toEqual(planPower({ ...opts, seed: 10 }));
  });

  it("cut → battery at once, generator after its start delay, mains return; charge falls on battery", () => {
    const p = planPower({ ...opts, unscheduledPerDay: 0, generator: { startDelayS: [60, 60], failChance: 0 } });
    expect(p.map((x) => [x.source, x.cause, Math.round((x.at / HOUR + 6) * 1000) / 1000])).toEqual([
      ["battery", "load_shedding", 10],
      ["generator", "generator_start", 10.017],
      ["mains", "mains_return", 12],
      ["battery", "load_shedding", 16],
      ["generator", "generator_start", 16.017],
      ["mains", "mains_return", 18],
    ]);
    expect(p[0]!.chargePct).toBe(100);
  });

  it("no generator: the UPS runs down to low battery and then the center is down until mains returns", () => {
    const p = planPower({ ...opts, unscheduledPerDay: 0, generator: null, ups: { runtimeMin: 50, lowBatteryPct: 20 } });
    const first = p.slice(0, 4).map((x) => [x.source, x.cause, Math.round((x.at - p[0]!.at) / 60_000), x.chargePct]);
    expect(first).toEqual([
      ["battery", "load_shedding", 0, 100],
      ["low_battery", "low_battery", 40, 20],
      ["down", "battery_empty", 50, 0],
      ["mains", "mains_return", 120, 0],
    ]);
  });

  it("a generator that fails to start is recorded, the battery carries on", () => {
    const p = planPower({ ...opts, unscheduledPerDay: 0, generator: { startDelayS: [30, 90], failChance: 1 } });
    expect(p.some((x) => x.cause === "generator_fail")).toBe(true);
    expect(p.some((x) => x.source === "generator")).toBe(false);
  });

  it("internet drops last minutes to hours, alternate down/up, and follow a power-down", () => {
    const power: PowerAction[] = [
      { at: 5 * HOUR, kind: "power", source: "down", cause: "battery_empty", chargePct: 0 },
      { at: 6 * HOUR, kind: "power", source: "mains", cause: "mains_return", chargePct: 0 },
    ];
    const n = planInternet({ seed: 3, durationMs: 7 * 24 * HOUR, dropsPerDay: 3, power });
    expect(n).toEqual(planInternet({ seed: 3, durationMs: 7 * 24 * HOUR, dropsPerDay: 3, power }));
    n.forEach((x, i) => expect(x.up).toBe(i % 2 === 1));
    expect(n.some((x) => !x.up && x.cause === "power") || n.some((x) => !x.up && x.at < 5 * HOUR)).toBe(true);
    const lengths = n.filter((x) => !x.up).map((x, i) => ((n[2 * i + 1]?.at ?? Infinity) - x.at) / 60_000);
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...lengths.filter(Number.isFinite))).toBeGreaterThan(30);
  });
});

describe("runScenario (fake timers)", () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.useRealTimers();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function play(seed: number) {
    vi.useFakeTimers({ now: START });
    const dir = mkdtempSync(path.join(os.tmpdir(), "hazri-scn-"));
    dirs.push(dir);
    const gt = openGroundTruth(path.join(dir, "gt.jsonl"), () => Date.now());
    const power = planPower({ seed, durationMs: 24 * HOUR, startHour: 6 });
    const plan: ScenarioStep[] = [
      ...planCenterDay(layout, { seed, startAt: START, startHour: 6 }).filter((x) => x.kind === "person"),
      ...power,
      ...planInternet({ seed, durationMs: 24 * HOUR, power }),
    ].sort((a, b) => a.at - b.at);
    const calls: string[] = [];
    const run = runScenario(plan, {
      groundTruth: gt,
      speed: 1440,
      power: { setMains: (on) => void calls.push(`mains ${on}`), setGenerator: (on) => void calls.push(`gen ${on}`) },
      internet: { cut: () => void calls.push("cut"), restore: () => void calls.push("restore") },
    });
    await vi.advanceTimersByTimeAsync(61_000); // a day at 1440x = 60 s
    const summary = await run;
    return { summary, records: readGroundTruth(gt.file).map((r) => ({ ...r, t: r.t - START })), calls, plan };
  }

  it("same seed → the same ground truth twice (people, power, internet, with true times)", async () => {
    const a = await play(21);
    const b = await play(21);
    expect(a.summary.executed).toBe(a.summary.planned);
    expect(a.records.length).toBeGreaterThan(20);
    expect(b.records).toEqual(a.records);
    expect(new Set(a.records.map((r) => r.kind))).toEqual(new Set(["scenario", "person", "power", "internet"]));
    // Every step's record carries its plan offset, in plan order.
    const steps = a.records.filter((r) => r.kind !== "scenario");
    expect(steps.map((r) => r.planMs)).toEqual(a.plan.map((x) => x.at));
    expect(a.calls).toContain("mains false");
    expect(a.calls).toContain("cut");
    expect(a.calls.filter((c) => c === "cut").length).toBe(a.records.filter((r) => r.kind === "internet" && !r.up).length);
    const c = await play(22);
    expect(c.records).not.toEqual(a.records);
  });
});

describe("runScenario power control", () => {
  afterEach(() => vi.useRealTimers());
  it("drives the center's own power plant when no PowerControl is given (mains off, generator on, battery aligned)", async () => {
    vi.useFakeTimers({ now: START });
    const recs: unknown[] = [];
    const calls: string[] = [];
    const center = {
      groundTruth: { file: "", write: (r: object) => (recs.push(r), { t: 0, ...r }), records: () => [] },
      power: {
        setMains: async (on: boolean) => void calls.push(`mains ${on}`),
        setGenerator: async (on: boolean) => void calls.push(`gen ${on}`),
        setBattery: async (b: { chargePct: number; lowBattery: boolean }) => void calls.push(`battery ${b.chargePct} ${b.lowBattery}`),
      },
    } as unknown as import("./center.ts").SimCenter;
    const plan = planPower({ seed: 1, durationMs: 24 * HOUR, startHour: 6, unscheduledPerDay: 0, generator: { startDelayS: [60, 60], failChance: 0 } });
    const run = runScenario(plan, { center, speed: 10_000 });
    await vi.advanceTimersByTimeAsync(10_000);
    await run;
    expect(calls.slice(0, 4)).toEqual(["mains false", "battery 100 false", "gen true", expect.stringMatching(/^battery \d/)]);
    expect(calls).toContain("mains true");
    expect(recs).toHaveLength(plan.length + 1); // + the "scenario" header
    expect(recs[0]).toMatchObject({ kind: "scenario", speed: 10_000, planned: plan.length, skippedBusy: 0 });
  });
});
