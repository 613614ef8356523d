/**
 * Power and internet for a simulated center's day, seeded and pure.
 *
 * Power: mains is cut by a load-shedding schedule (fixed blocks, e.g. two
 * hours at 10:00 and 16:00 local) and by unscheduled cuts. On a cut the UPS
 * carries the load at once (battery), the generator starts after a delay (or
 * fails to start), the battery discharges linearly over its full runtime
 * (charge %/min = 100 / runtimeMin), `low_battery` below lowBatteryPct and
 * `down` at 0 %. On generator or mains the UPS recharges. Mains return wins
 * over everything. Every transition is an action with the charge at that
 * instant; `runScenario` (scenario-run.ts) applies it to a PowerControl and
 * writes `power` ground truth.
 *
 * Internet: WAN drops of minutes to hours (log-uniform), plus the link goes
 * with the power when the router loses it (`down`).
 */
import type { PowerCause } from "./ground-truth.ts";
import type { SimPowerModelOptions } from "./devices/ups-battery.ts";
import { createRng } from "./rng.ts";

export type PowerSourceTruth = "mains" | "generator" | "battery" | "low_battery" | "down";

export type PowerAction = { at: number; kind: "power"; source: PowerSourceTruth; cause: PowerCause; chargePct: number };
export type InternetAction = { at: number; kind: "internet"; up: boolean; cause: "drop" | "power" | "restore" };

const MIN = 60_000;
const HOUR = 3_600_000;

export interface PowerPlanOptions {
  seed: number;
  durationMs: number;
  /** Local hour of day (0-24, fractional ok) at t = 0. Default 0 (midnight). */
  startHour?: number;
  /** Load-shedding blocks by local start time. Default two 2-hour blocks at 10:00 and 16:00. */
  loadShedding?: Array<{ at: string; hours: number }>;
  /** Mean unscheduled cuts per simulated day (Poisson). Default 1. */
  unscheduledPerDay?: number;
  /** Length of an unscheduled cut in minutes, uniform [min, max]. Default [5, 90]. */
  unscheduledMinutes?: [number, number];
  /** null: no generator. Default: starts after 30-120 s, fails 10 % of the time. */
  generator?: { startDelayS?: [number, number]; failChance?: number } | null;
  ups?: { runtimeMin?: number; rechargeMin?: number; lowBatteryPct?: number };
}

/** The plan's UPS when `ups` is not given (planPower). */
export const UPS_PLAN_DEFAULTS = { runtimeMin: 45, rechargeMin: 240, lowBatteryPct: 20 } as const;

/**
 * The battery model matching a power plan at a speed-up: the devices drain and recharge in SIM
 * time (model time = clock × speed) at the plan's rates — full to empty in `runtimeMin` at `loadW`,
 * empty to full in `rechargeMin` — so between the plan's transitions the charge they report follows
 * the same line the plan's `chargePct` does (runScenario only re-aligns it at each transition).
 */
export function powerModelFor(speed: number, ups: PowerPlanOptions["ups"] = {}, loadW = 300): SimPowerModelOptions {
  const runtimeMin = ups.runtimeMin ?? UPS_PLAN_DEFAULTS.runtimeMin;
  const rechargeMin = ups.rechargeMin ?? UPS_PLAN_DEFAULTS.rechargeMin;
  const capacityWh = (loadW * runtimeMin) / 60;
  return { speed, loadW, capacityWh, chargeW: (capacityWh * 60) / rechargeMin, lowPct: ups.lowBatteryPct ?? UPS_PLAN_DEFAULTS.lowBatteryPct };
}

function hhmm(s: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (!m) throw new RangeError(`time of day must be HH:MM, got ${JSON.stringify(s)}`);
  return Number(m[1]) + Number(m[2]) / 60;
}

/** Offsets (ms from t=0) at which local hour `h` occurs during the run. */
function occurrences(h: number, startHour: number, durationMs: number): number[] {
  const out: number[] = [];
  let at = ((((h - startHour) % 24) + 24) % 24) * HOUR;
  for (; at < durationMs; at += 24 * HOUR) out.push(Math.round(at));
  return out;
}

/** Mains-off intervals (merged, sorted), each with its cause. */
export function mainsOutages(o: PowerPlanOptions): Array<{ from: number; to: number; cause: PowerCause }> {
  const rng = createRng(o.seed ^ 0x9e3779b1);
  const startHour = o.startHour ?? 0;
  const raw: Array<{ from: number; to: number; cause: PowerCause }> = [];
  for (const b of o.loadShedding ?? [{ at: "10:00", hours: 2 }, { at: "16:00", hours: 2 }]) {
    for (const from of occurrences(hhmm(b.at), startHour, o.durationMs)) raw.push({ from, to: from + b.hours * HOUR, cause: "load_shedding" });
  }
  const perDay = o.unscheduledPerDay ?? 1;
  const [lo, hi] = o.unscheduledMinutes ?? [5, 90];
  if (perDay > 0) {
    const mean = (24 * HOUR) / perDay;
    for (let t = rng.exp(mean); t < o.durationMs; t += rng.exp(mean)) {
      raw.push({ from: Math.round(t), to: Math.round(t + rng.int(lo, hi) * MIN), cause: "unscheduled_cut" });
    }
  }
  raw.sort((a, b) => a.from - b.from);
  const merged: typeof raw = [];
  for (const r of raw) {
    const last = merged[merged.length - 1];
    if (last && r.from <= last.to) last.to = Math.max(last.to, r.to);
    else merged.push({ ...r });
  }
  return merged.filter((r) => r.from < o.durationMs);
}

/** The power transitions of the run, sorted. The run starts on mains at 100 %. */
export function planPower(o: PowerPlanOptions): PowerAction[] {
  const rng = createRng(o.seed);
  const runtimeMin = o.ups?.runtimeMin ?? UPS_PLAN_DEFAULTS.runtimeMin;
  const rechargeMin = o.ups?.rechargeMin ?? UPS_PLAN_DEFAULTS.rechargeMin;
  const lowPct = o.ups?.lowBatteryPct ?? UPS_PLAN_DEFAULTS.lowBatteryPct;
  const gen = o.generator === null ? null : { startDelayS: o.generator?.startDelayS ?? [30, 120], failChance: o.generator?.failChance ?? 0.1 };
  const drain = 100 / (runtimeMin * MIN); // % per ms
  const charge = 100 / (rechargeMin * MIN);
  const out: PowerAction[] = [];
  let pct = 100;
  let t = 0;
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const emit = (at: number, source: PowerSourceTruth, cause: PowerCause) => out.push({ at: Math.round(at), kind: "power", source, cause, chargePct: r1(pct) });

  for (const cut of mainsOutages(o)) {
    pct = Math.min(100, pct + (cut.from - t) * charge); // recharging on mains since the last event
    t = cut.from;
    emit(t, pct > lowPct ? "battery" : "low_battery", cut.cause);
    const genAt = gen && !rng.chance(gen.failChance) ? cut.from + rng.int(gen.startDelayS[0], gen.startDelayS[1]) * 1000 : null;
    // Battery phase: until the generator takes the load or mains returns.
    const end = Math.min(genAt ?? Infinity, cut.to);
    const p0 = pct;
    const lowAt = p0 > lowPct ? t + (p0 - lowPct) / drain : null;
    const emptyAt = t + p0 / drain;
    const failAt = gen && genAt === null ? cut.from + gen.startDelayS[1] * 1000 : null;
    if (failAt !== null && failAt < end && (lowAt === null || failAt < lowAt)) {
      out.push({ at: Math.round(failAt), kind: "power", source: "battery", cause: "generator_fail", chargePct: r1(p0 - (failAt - t) * drain) });
    }
    if (lowAt !== null && lowAt < end) {
      pct = lowPct;
      emit(lowAt, "low_battery", "low_battery");
    }
    if (emptyAt < end) {
      pct = 0;
      emit(emptyAt, "down", "battery_empty");
    }
    pct = Math.max(0, p0 - (end - t) * drain);
    t = end;
    if (genAt !== null && genAt < cut.to) {
      emit(genAt, "generator", "generator_start");
      pct = Math.min(100, pct + (cut.to - genAt) * charge);
      t = cut.to;
    }
    if (cut.to < o.durationMs) {
      t = cut.to;
      emit(t, "mains", "mains_return");
    } else break;
  }
  // Stable by time; the failure note can share a time with another action.
  return out.filter((a) => a.at < o.durationMs).map((a, i) => ({ a, i })).sort((x, y) => x.a.at - y.a.at || x.i - y.i).map((x) => x.a);
}

export interface InternetPlanOptions {
  seed: number;
  durationMs: number;
  /** Mean WAN drops per simulated day (Poisson). Default 2. */
  dropsPerDay?: number;
  /** Drop length in minutes, log-uniform in [min, max] ("minutes to hours"). Default [2, 180]. */
  dropMinutes?: [number, number];
  /** When given, the link is also down while the power is `down` (the router is on the same UPS). */
  power?: PowerAction[];
}

export function planInternet(o: InternetPlanOptions): InternetAction[] {
  const rng = createRng(o.seed ^ 0x1badb002);
  const perDay = o.dropsPerDay ?? 2;
  const [lo, hi] = o.dropMinutes ?? [2, 180];
  const downs: Array<{ from: number; to: number; cause: "drop" | "power" }> = [];
  if (perDay > 0) {
    const mean = (24 * HOUR) / perDay;
    for (let t = rng.exp(mean); t < o.durationMs; t += rng.exp(mean)) {
      const minutes = Math.exp(Math.log(lo) + rng.next() * (Math.log(hi) - Math.log(lo)));
      downs.push({ from: Math.round(t), to: Math.round(t + minutes * MIN), cause: "drop" });
    }
  }
  const power = o.power ?? [];
  power.forEach((p, i) => {
    if (p.source !== "down") return;
    const back = power.slice(i + 1).find((q) => q.source !== "down");
    downs.push({ from: p.at, to: back?.at ?? Infinity, cause: "power" });
  });
  downs.sort((a, b) => a.from - b.from);
  const out: InternetAction[] = [];
  let until = -1;
  for (const d of downs) {
    if (d.from <= until) {
      until = Math.max(until, d.to);
      continue;
    }
    if (until >= 0 && until < o.durationMs) out.push({ at: until, kind: "internet", up: true, cause: "restore" });
    out.push({ at: d.from, kind: "internet", up: false, cause: d.cause });
    until = d.to;
  }
  if (until >= 0 && until < o.durationMs) out.push({ at: until, kind: "internet", up: true, cause: "restore" });
  return out.filter((a) => a.at < o.durationMs);
}
