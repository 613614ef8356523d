import type { PowerSource } from "../../../protocol/events.ts";
import type { OperatingCalendar } from "./calendar.ts";
import { intersect, normalize, subtract, total } from "./intervals.ts";
import type { Change, Interval } from "./intervals.ts";

/**
 * The SLA of one center over one period, from three timelines (docs/sla.md):
 * power source (edge `power` events), uplink (the edge's own `uplink` ledger)
 * and evidence (time covered by the edge's events; the rest is "dark").
 * Pure: the readers fetch, this decides. Every figure is over operating time
 * only; time outside it is neither up nor down.
 */
export type Cause = "mains_cut" | "generator" | "ups_exhausted" | "internet" | "edge_dark" | "power_unknown" | "internet_unknown";
export const CAUSES: readonly Cause[] = ["mains_cut", "generator", "ups_exhausted", "internet", "edge_dark", "power_unknown", "internet_unknown"];
export type Status = "up" | "down" | "unknown";

export interface SlaOptions {
  /** Count dark time right after `low_battery` as power down (ups_exhausted). */
  inferUpsExhausted: boolean;
  /** Outages shorter than this (ms) are not listed (their time still counts). */
  minOutageMs: number;
  excludeLoadShedding: boolean;
}

export interface SlaInput {
  centerId: string;
  /** Reported window (month ∩ before now). */
  period: Interval;
  calendar: OperatingCalendar;
  /** Sorted power source changes; one at or before period.start gives the initial state. */
  power: readonly Change<PowerSource>[];
  uplink: readonly Change<"up" | "down">[];
  /** Intervals inside the period with no evidence from the edge. */
  dark: readonly Interval[];
  opts: SlaOptions;
}

export interface Outage {
  start: number;
  end: number;
  durationMs: number;
  cause: Cause;
  /** "down" counts against availability; "unknown" is missing evidence (completeness). */
  counted: "down" | "unknown";
  /** Part of the outage inside declared closures / load-shedding windows. */
  excludedMs: number;
}

export interface Figures {
  operatingMs: number;
  upMs: number;
  downMs: number;
  unknownMs: number;
  /** up / (up + down): availability over the time with evidence. null when nothing is known. */
  availabilityPct: number | null;
  /** Share of operating time with evidence from the edge. */
  completenessPct: number | null;
  power: { mainsMs: number; generatorMs: number; batteryMs: number; downMs: number; unknownMs: number; availabilityPct: number | null };
  internet: { upMs: number; downMs: number; unknownMs: number; availabilityPct: number | null };
  outages: { count: number; byCause: Partial<Record<Cause, { count: number; ms: number }>>; mttrMs: number | null; longestMs: number | null };
}

export interface CenterSla {
  centerId: string;
  period: Interval;
  /** Figures over all operating time, and with declared closures (and load-shedding, if configured) excluded. */
  all: Figures;
  excluding: Figures;
  excludedMs: number;
  outages: Outage[];
}

interface Cell {
  start: number;
  end: number;
  status: Status;
  cause: Cause | null;
  power: "mains" | "generator" | "battery" | "down" | "unknown";
  internet: Status;
  dark: boolean;
}

const pct = (num: number, den: number): number | null => (den > 0 ? (100 * num) / den : null);

function powerCause(lastPowered: PowerSource | null): Cause {
  if (lastPowered === "generator") return "generator";
  if (lastPowered === "battery" || lastPowered === "low_battery") return "ups_exhausted";
  return "mains_cut";
}

/** Elementary cells: operating time cut at every change of any input. */
function cells(input: SlaInput, operating: readonly Interval[]): Cell[] {
  const { power, uplink, opts } = input;
  const dark = normalize(input.dark);
  const cuts = new Set<number>();
  for (const i of operating) cuts.add(i.start).add(i.end);
  for (const c of power) cuts.add(c.t);
  for (const c of uplink) cuts.add(c.t);
  for (const d of dark) cuts.add(d.start).add(d.end);
  const points = [...cuts].sort((a, b) => a - b);
  const out: Cell[] = [];
  let pi = 0;
  let ui = 0;
  let di = 0;
  let oi = 0;
  let src: PowerSource | null = null;
  let lastPowered: PowerSource | null = null;
  let up: "up" | "down" | null = null;
  // The ledger records transitions only, so with no state before the period the
  // state before its first entry is the opposite of that entry.
  const firstUp = uplink[0];
  if (firstUp && firstUp.t > input.period.start) up = firstUp.state === "up" ? "down" : "up";
  for (let k = 0; k + 1 < points.length; k++) {
    const a = points[k] as number;
    const b = points[k + 1] as number;
    while (pi < power.length && (power[pi] as Change<PowerSource>).t <= a) {
      src = (power[pi] as Change<PowerSource>).state;
      if (src !== "down" && src !== "unknown") lastPowered = src;
      pi++;
    }
    while (ui < uplink.length && (uplink[ui] as Change<"up" | "down">).t <= a) up = (uplink[ui++] as Change<"up" | "down">).state;
    while (oi < operating.length && (operating[oi] as Interval).end <= a) oi++;
    const op = operating[oi];
    if (!op || op.start > a) continue;
    while (di < dark.length && (dark[di] as Interval).end <= a) di++;
    const isDark = dark[di] !== undefined && (dark[di] as Interval).start <= a;
    const p = src ?? "unknown";
    const pclass: Cell["power"] = p === "low_battery" ? "battery" : p;
    let status: Status = "up";
    let cause: Cause | null = null;
    let powerCls: Cell["power"] = pclass;
    let internet: Status = up ?? "unknown";
    if (isDark) {
      internet = "unknown";
      if (opts.inferUpsExhausted && p === "low_battery") {
        [status, cause, powerCls] = ["down", "ups_exhausted", "down"];
      } else {
        [status, cause, powerCls] = ["unknown", "edge_dark", "unknown"];
      }
    } else if (p === "down") [status, cause] = ["down", powerCause(lastPowered)];
    else if (p === "unknown") [status, cause] = ["unknown", "power_unknown"];
    else if (up === "down") [status, cause] = ["down", "internet"];
    else if (up === null) [status, cause] = ["unknown", "internet_unknown"];
    out.push({ start: a, end: b, status, cause, power: powerCls, internet, dark: isDark });
  }
  return out;
}

function outagesOf(cs: readonly Cell[], excluded: readonly Interval[], minMs: number): Outage[] {
  const out: Outage[] = [];
  for (const c of cs) {
    if (c.status === "up" || c.cause === null) continue;
    const last = out[out.length - 1];
    if (last && last.end === c.start && last.cause === c.cause) last.end = c.end;
    else out.push({ start: c.start, end: c.end, durationMs: 0, cause: c.cause, counted: c.status, excludedMs: 0 });
  }
  return out
    .map((o) => ({ ...o, durationMs: o.end - o.start, excludedMs: total(intersect([o], excluded)) }))
    .filter((o) => o.durationMs >= minMs);
}

function figures(cs: readonly Cell[], outages: readonly Outage[]): Figures {
  const f = { operatingMs: 0, upMs: 0, downMs: 0, unknownMs: 0 };
  const pw = { mainsMs: 0, generatorMs: 0, batteryMs: 0, downMs: 0, unknownMs: 0 };
  const net = { upMs: 0, downMs: 0, unknownMs: 0 };
  let darkMs = 0;
  for (const c of cs) {
    const d = c.end - c.start;
    f.operatingMs += d;
    f[`${c.status}Ms`] += d;
    pw[`${c.power}Ms`] += d;
    net[`${c.internet}Ms`] += d;
    if (c.dark) darkMs += d;
  }
  const byCause: Figures["outages"]["byCause"] = {};
  for (const o of outages) {
    const e = (byCause[o.cause] ??= { count: 0, ms: 0 });
    e.count++;
    e.ms += o.durationMs;
  }
  const durations = outages.map((o) => o.durationMs);
  const powered = pw.mainsMs + pw.generatorMs + pw.batteryMs;
  return {
    ...f,
    availabilityPct: pct(f.upMs, f.upMs + f.downMs),
    completenessPct: pct(f.operatingMs - darkMs, f.operatingMs),
    power: { ...pw, availabilityPct: pct(powered, powered + pw.downMs) },
    internet: { ...net, availabilityPct: pct(net.upMs, net.upMs + net.downMs) },
    outages: {
      count: outages.length,
      byCause,
      mttrMs: durations.length ? durations.reduce((s, d) => s + d, 0) / durations.length : null,
      longestMs: durations.length ? Math.max(...durations) : null,
    },
  };
}

export function computeCenterSla(input: SlaInput): CenterSla {
  const { calendar, period, opts } = input;
  const operating = intersect(calendar.operating, [period]);
  const excludedWindows = normalize([...calendar.closures, ...(opts.excludeLoadShedding ? calendar.loadShedding : [])]);
  const kept = subtract(operating, excludedWindows);
  const all = cells(input, operating);
  const outages = outagesOf(all, excludedWindows, opts.minOutageMs);
  // The "excluding" figures come from the same cells cut at the exclusion edges.
  const keptCells = cells(input, kept);
  const keptOutages = outagesOf(keptCells, [], opts.minOutageMs);
  return {
    centerId: input.centerId,
    period,
    all: figures(all, outages),
    excluding: figures(keptCells, keptOutages),
    excludedMs: total(operating) - total(kept),
    outages,
  };
}
