/**
 * A seeded day at a center: members (valid, suspended, expired, unknown cards)
 * tapping in and out, seats turning occupied/vacant. `planDay` is pure and
 * deterministic for a seed (tested without timing); `runDay` plays a plan
 * against a SimCenter in (scaled) real time, writing ground truth through the
 * center, and can be stopped with an AbortSignal.
 */
import type { SimCenter, SimCenterOptions } from "./center.ts";
import type { ExpectedReason } from "./ground-truth.ts";
import { isExpired } from "./members.ts";
import { applyFault, faultKey, type FaultAction } from "./faults/device-faults.ts";
import { playPlan, readerBusySkips } from "./plan-play.ts";
import { createRng, type Rng } from "./rng.ts";

export type CardCategory = "valid" | "suspended" | "expired" | "inactive" | "unknown";

export type ScenarioAction =
  | { at: number; kind: "tap"; reader: string; cardId: string; category: CardCategory }
  | { at: number; kind: "seat"; seat: string; occupied: boolean }
  | { at: number; kind: "seat_offline" | "seat_online"; seat: string };

export interface ScenarioRates {
  /** People arriving at an "in" reader per (simulated) hour. Default 60. */
  arrivalsPerHour?: number;
  /** Seat state changes per hour across the center. Default 120. */
  seatChangesPerHour?: number;
  /** Seat sensors losing power per hour (back after ~1-5 min). Default 0. */
  sensorDropsPerHour?: number;
  /** Relative weights of the card presented on arrival. */
  mix?: Partial<Record<CardCategory, number>>;
  /** Mean time a granted member stays before tapping out (ms, sim time). Default 2 h. */
  meanStayMs?: number;
}

export interface PlanOptions {
  seed: number;
  durationMs: number;
  rates?: ScenarioRates;
  /** Wall time the day starts at: decides which plans count as expired. */
  startAt: number;
}

type PlanCenter = Pick<SimCenterOptions, "readers" | "seats" | "members">;

const DEFAULT_MIX: Record<CardCategory, number> = { valid: 80, suspended: 4, expired: 6, inactive: 2, unknown: 8 };

function categorize(center: PlanCenter, startAt: number): Record<CardCategory, string[]> {
  const out: Record<CardCategory, string[]> = { valid: [], suspended: [], expired: [], inactive: [], unknown: [] };
  for (const m of center.members) {
    const cat: CardCategory =
      m.status === "suspended"
        ? "suspended"
        : m.status === "inactive"
          ? "inactive"
          : isExpired(m, startAt)
            ? "expired"
            : "valid";
    out[cat].push(...m.cards.map((c) => c.toUpperCase()));
  }
  return out;
}

function randomUnknownCard(rng: Rng, known: Set<string>): string {
  for (;;) {
    let s = "";
    for (let i = 0; i < 10; i++) s += "0123456789ABCDEF"[rng.int(0, 15)];
    if (!known.has(s)) return s;
  }
}

/** The deterministic list of actions for a seed, sorted by `at` (ms from the start, sim time). */
export function planDay(center: PlanCenter, opts: PlanOptions): ScenarioAction[] {
  const rates = opts.rates ?? {};
  const rng = createRng(opts.seed);
  const tapRng = rng.fork();
  const seatRng = rng.fork();
  const dropRng = rng.fork();
  const actions: ScenarioAction[] = [];
  const hour = 3_600_000;

  const cards = categorize(center, opts.startAt);
  const known = new Set(center.members.flatMap((m) => m.cards.map((c) => c.toUpperCase())));
  const mix = { ...DEFAULT_MIX, ...rates.mix };
  const cats = (Object.keys(mix) as CardCategory[]).filter((c) => (mix[c] ?? 0) > 0 && (c === "unknown" || cards[c].length > 0));
  const inReaders = center.readers.filter((r) => r.direction === "in");
  const outReaders = center.readers.filter((r) => r.direction === "out");
  const arrivals = rates.arrivalsPerHour ?? 60;
  const meanStay = rates.meanStayMs ?? 2 * hour;

  if (arrivals > 0 && cats.length > 0 && center.readers.length > 0) {
    const entry = inReaders.length > 0 ? inReaders : center.readers;
    for (let t = tapRng.exp(hour / arrivals); t < opts.durationMs; t += tapRng.exp(hour / arrivals)) {
      const cat = cats[tapRng.weighted(cats.map((c) => mix[c] ?? 0))] as CardCategory;
      const cardId = cat === "unknown" ? randomUnknownCard(tapRng, known) : tapRng.pick(cards[cat]);
      const inReader = tapRng.pick(entry);
      actions.push({ at: Math.round(t), kind: "tap", reader: inReader.id, cardId, category: cat });
      if (cat === "valid" && outReaders.length > 0) {
        const out = Math.round(t + tapRng.exp(meanStay));
        const sameDoor = outReaders.filter((r) => r.door === inReader.door);
        const outReader = tapRng.pick(sameDoor.length > 0 ? sameDoor : outReaders);
        if (out < opts.durationMs) actions.push({ at: out, kind: "tap", reader: outReader.id, cardId, category: cat });
      }
    }
  }

  const seatRate = rates.seatChangesPerHour ?? 120;
  const occupied = new Map(center.seats.map((s) => [s.id, false]));
  if (seatRate > 0 && center.seats.length > 0) {
    for (let t = seatRng.exp(hour / seatRate); t < opts.durationMs; t += seatRng.exp(hour / seatRate)) {
      const seat = seatRng.pick(center.seats).id;
      const next = !occupied.get(seat);
      occupied.set(seat, next);
      actions.push({ at: Math.round(t), kind: "seat", seat, occupied: next });
    }
  }

  const drops = rates.sensorDropsPerHour ?? 0;
  if (drops > 0 && center.seats.length > 0) {
    for (let t = dropRng.exp(hour / drops); t < opts.durationMs; t += dropRng.exp(hour / drops)) {
      const seat = dropRng.pick(center.seats).id;
      const back = Math.round(t + dropRng.int(60_000, 300_000));
      actions.push({ at: Math.round(t), kind: "seat_offline", seat });
      if (back < opts.durationMs) actions.push({ at: back, kind: "seat_online", seat });
    }
  }

  // Stable sort: equal times keep generation order, so the list is a pure function of the seed.
  return actions.map((a, i) => ({ a, i })).sort((x, y) => x.a.at - y.a.at || x.i - y.i).map((x) => x.a);
}

export interface RunDayOptions {
  seed: number;
  /** Sim-time speed-up (default 1: real time). 60 = an hour per minute. */
  speed?: number;
  durationMs: number;
  rates?: ScenarioRates;
  signal?: AbortSignal;
  /** Called after each action is dispatched (for progress output). */
  onAction?: (a: ScenarioAction | FaultAction) => void;
  /** Device faults played with the day (faults/device-faults.ts faultSteps). */
  faults?: readonly FaultAction[];
}

export interface ScenarioSummary {
  planned: number;
  executed: number;
  stoppedEarly: boolean;
  taps: { total: number; granted: number; denied: number; undelivered: number; byReason: Partial<Record<ExpectedReason, number>> };
  /**
   * Taps not made because the reader was still busy with the previous card:
   * decided from the plan and the speed (plan-play.ts), written as `skip`
   * ground truth. Mostly at high speed-ups, where a card's real 300 ms hold
   * covers minutes or hours of sim time.
   */
  skippedBusy: number;
  seatChanges: number;
  sensorDrops: number;
  errors: string[];
}

/** Play a seeded day against `center`. Resolves when the plan is done or `signal` aborts (in-flight taps finish). */
export async function runDay(center: SimCenter, opts: RunDayOptions): Promise<ScenarioSummary> {
  const speed = opts.speed ?? 1;
  if (!(speed > 0)) throw new RangeError(`speed must be > 0, got ${speed}`);
  const day = planDay(center.config, { seed: opts.seed, durationMs: opts.durationMs, rates: opts.rates, startAt: Date.now() });
  const faults = (opts.faults ?? []).filter((f) => f.at < opts.durationMs);
  const plan: Array<ScenarioAction | FaultAction> = [...day, ...faults].map((a, i) => ({ a, i })).sort((x, y) => x.a.at - y.a.at || x.i - y.i).map((x) => x.a);
  const summary: ScenarioSummary = {
    planned: plan.length,
    executed: 0,
    stoppedEarly: false,
    taps: { total: 0, granted: 0, denied: 0, undelivered: 0, byReason: {} },
    seatChanges: 0,
    sensorDrops: 0,
    skippedBusy: 0,
    errors: [],
  };
  // Busy readers are decided from the plan, so one seed and speed always skip the same taps (plan-play.ts).
  const skip = readerBusySkips(plan, speed);
  center.groundTruth.write({ kind: "scenario", planMs: 0, speed, planned: plan.length, skippedBusy: skip.size });
  const r = await playPlan(plan, {
    speed,
    gt: center.groundTruth,
    signal: opts.signal,
    skip,
    onSkip: (a, slot) => {
      if (a.kind === "tap") slot.write({ kind: "skip", step: "tap", reader: a.reader, cardId: a.cardId.toUpperCase(), reason: "reader_busy" });
    },
    onDispatch: (a) => opts.onAction?.(a),
    untilMs: opts.durationMs, // the day lasts its duration, not until its last action
    key: (a) => (a.kind === "tap" ? `reader:${a.reader}` : a.kind === "fault" ? faultKey(a) : `seat:${a.seat}`),
    run: async (a, truth) => {
      if (a.kind === "fault") await applyFault(center, a, truth);
      else if (a.kind === "tap") {
        const o = await center.tap(a.reader, a.cardId, { truth });
        summary.taps.total++;
        if (o.record.kind === "tap" && !o.record.delivered) summary.taps.undelivered++;
        summary.taps[o.expected]++;
        summary.taps.byReason[o.reason] = (summary.taps.byReason[o.reason] ?? 0) + 1;
      } else if (a.kind === "seat") {
        await center.setSeat(a.seat, a.occupied, { truth });
        summary.seatChanges++;
      } else if (a.kind === "seat_offline") {
        await center.seatOffline(a.seat, { truth });
        summary.sensorDrops++;
      } else await center.seatOnline(a.seat, { truth });
    },
  });
  summary.executed = r.executed;
  summary.skippedBusy = r.skipped;
  summary.stoppedEarly = r.stoppedEarly;
  summary.errors = r.errors;
  return summary;
}
