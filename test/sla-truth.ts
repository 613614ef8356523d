/**
 * The SLA of what REALLY happened, from the simulator's ground truth
 * (firmware-sim/src/ground-truth.ts: `power` and `internet` records stamped
 * with the true wall time) plus what the test itself did to the edge process
 * (SIGKILL at a known instant, restarted). Exact (interval arithmetic, no
 * sampling), independent of server/src/sla: only the definitions of docs/sla.md
 * are shared, written again here.
 *
 * What the truth says and the report cannot know: power down while the edge is
 * dark is down (the truth knows), the report says unknown unless the edge went
 * dark on low battery. Scenarios that compare the two keep those apart.
 */
import type { GroundTruthRecord } from "../firmware-sim/src/ground-truth.ts";
import type { Cause } from "../server/src/sla/compute.ts";
import type { Interval } from "../server/src/sla/intervals.ts";

export type TrueSource = "mains" | "generator" | "battery" | "low_battery" | "down";

export interface SimTruthInput {
  gt: readonly GroundTruthRecord[];
  /** Operating time covered by the report. */
  operating: readonly Interval[];
  /** Declared closures (and load shedding, if excluded): the "excluding" figures drop them. */
  excluded: readonly Interval[];
  /** When the edge process was not running. */
  edgeOff: readonly Interval[];
  /** State before the first ground-truth record (default mains, internet up). */
  initial?: { power: TrueSource; internet: "up" | "down" };
}

export interface TruthOutage {
  start: number;
  end: number;
  cause: Cause;
  counted: "down" | "unknown";
}

export interface TruthTotals {
  upMs: number;
  downMs: number;
  unknownMs: number;
}

export interface SimTruth {
  outages: TruthOutage[];
  all: TruthTotals;
  kept: TruthTotals;
  /** up / (up + down), percent; null when nothing is known. */
  availabilityAllPct: number | null;
  availabilityPct: number | null;
  /** Time on each true source during operating time (all). */
  sourceMs: Record<TrueSource, number>;
}

const within = (xs: readonly Interval[], t: number) => xs.some((i) => i.start <= t && t < i.end);

export function truthFromSim(i: SimTruthInput): SimTruth {
  const power = i.gt.flatMap((r) => (r.kind === "power" ? [{ t: r.t, s: r.source }] : [])).sort((a, b) => a.t - b.t);
  const net = i.gt.flatMap((r) => (r.kind === "internet" ? [{ t: r.t, up: r.up }] : [])).sort((a, b) => a.t - b.t);
  const cuts = new Set<number>();
  for (const xs of [i.operating, i.excluded, i.edgeOff]) for (const x of xs) cuts.add(x.start).add(x.end);
  for (const p of power) cuts.add(p.t);
  for (const n of net) cuts.add(n.t);
  const points = [...cuts].sort((a, b) => a - b);
  const all: TruthTotals = { upMs: 0, downMs: 0, unknownMs: 0 };
  const kept: TruthTotals = { upMs: 0, downMs: 0, unknownMs: 0 };
  const sourceMs: Record<TrueSource, number> = { mains: 0, generator: 0, battery: 0, low_battery: 0, down: 0 };
  const outages: TruthOutage[] = [];
  for (let k = 0; k + 1 < points.length; k++) {
    const a = points[k] as number;
    const b = points[k + 1] as number;
    if (!within(i.operating, a)) continue;
    const before = power.filter((p) => p.t <= a);
    const src: TrueSource = before.at(-1)?.s ?? i.initial?.power ?? "mains";
    const lastPowered = [...before].reverse().find((p) => p.s !== "down")?.s ?? i.initial?.power ?? "mains";
    const up = net.filter((n) => n.t <= a).at(-1)?.up ?? (i.initial?.internet ?? "up") === "up";
    let status: "up" | "down" | "unknown" = "up";
    let cause: Cause | null = null;
    if (src === "down") [status, cause] = ["down", lastPowered === "generator" ? "generator" : lastPowered === "mains" ? "mains_cut" : "ups_exhausted"];
    else if (within(i.edgeOff, a)) [status, cause] = ["unknown", "edge_dark"];
    else if (!up) [status, cause] = ["down", "internet"];
    const d = b - a;
    all[`${status}Ms`] += d;
    if (!within(i.excluded, a)) kept[`${status}Ms`] += d;
    sourceMs[src] += d;
    if (!cause) continue;
    const last = outages.at(-1);
    if (last && last.end === a && last.cause === cause) last.end = b;
    else outages.push({ start: a, end: b, cause, counted: status === "down" ? "down" : "unknown" });
  }
  const av = (x: TruthTotals) => (x.upMs + x.downMs > 0 ? (100 * x.upMs) / (x.upMs + x.downMs) : null);
  return { outages, all, kept, availabilityAllPct: av(all), availabilityPct: av(kept), sourceMs };
}

export interface OccupancyTruth {
  occupiedSeatMs: number;
  utilizationPct: number;
  peakSeats: number;
  peakSeatsAt: number | null;
  peakPeople: number;
  peakPeopleAt: number | null;
  checkIns: number;
  /** Seats taken while more seats were occupied than people checked in (docs/sla.md, Reconciliation). */
  tailgating: { t: number; seat: string }[];
  /** Check-ins during whose first `ghostAfterMs` the people in always outnumbered the seats used. */
  ghosts: { t: number; member: string }[];
}

/**
 * Occupancy of what REALLY happened in the simulator: seat records (the
 * sensor's true occupancy) and the taps the edge must have granted (delivered,
 * expected granted), with the definitions of docs/sla.md written again:
 * presence from an "in" to the member's "out" (or presenceMax), utilization
 * over operating time, peaks, tailgating and ghost check-ins by counts.
 */
export function occupancyFromSim(
  gt: readonly GroundTruthRecord[],
  o: { operating: Interval; seats: readonly string[]; presenceMaxMs: number; ghostAfterMs: number; day: Interval },
): OccupancyTruth {
  const seatRecs = gt.flatMap((r) => (r.kind === "seat" ? [r] : [])).sort((a, b) => a.t - b.t);
  const taps = gt.flatMap((r) => (r.kind === "tap" && r.delivered && r.expected === "granted" && r.memberId ? [r] : [])).sort((a, b) => a.t - b.t);
  // Occupied intervals per seat.
  const occ = new Map<string, Interval[]>();
  const since = new Map<string, number>();
  for (const r of seatRecs) {
    if (r.occupied && !since.has(r.seat)) since.set(r.seat, r.t);
    if (!r.occupied && since.has(r.seat)) {
      occ.set(r.seat, [...(occ.get(r.seat) ?? []), { start: since.get(r.seat) as number, end: r.t }]);
      since.delete(r.seat);
    }
  }
  for (const [seat, t] of since) occ.set(seat, [...(occ.get(seat) ?? []), { start: t, end: Infinity }]);
  // Presence per member.
  const pres: { member: string; start: number; end: number }[] = [];
  const inSince = new Map<string, number>();
  for (const t of taps) {
    const m = t.memberId as string;
    if (t.direction === "in" && !inSince.has(m)) inSince.set(m, t.t);
    if (t.direction === "out" && inSince.has(m)) {
      pres.push({ member: m, start: inSince.get(m) as number, end: Math.min(t.t, (inSince.get(m) as number) + o.presenceMaxMs) });
      inSince.delete(m);
    }
  }
  for (const [m, s] of inSince) pres.push({ member: m, start: s, end: s + o.presenceMaxMs });
  const seatsAt = (t: number) => [...occ.values()].filter((xs) => xs.some((i) => i.start <= t && t < i.end)).length;
  const peopleAt = (t: number) => pres.filter((p) => p.start <= t && t < p.end).length;
  let occupiedSeatMs = 0;
  for (const xs of occ.values()) for (const i of xs) occupiedSeatMs += Math.max(0, Math.min(i.end, o.operating.end) - Math.max(i.start, o.operating.start));
  const peak = (at: (t: number) => number, instants: number[]) => {
    let best = { n: 0, at: null as number | null };
    for (const t of instants.filter((x) => x >= o.day.start && x < o.day.end).sort((a, b) => a - b)) if (at(t) > best.n) best = { n: at(t), at: t };
    return best;
  };
  const seatInstants = [...occ.values()].flatMap((xs) => xs.map((i) => i.start));
  const ps = peak(seatsAt, seatInstants);
  const pp = peak(peopleAt, pres.map((p) => p.start));
  const tailgating = [...occ].flatMap(([seat, xs]) => xs.map((i) => ({ t: i.start, seat }))).filter((x) => seatsAt(x.t) > peopleAt(x.t)).sort((a, b) => a.t - b.t);
  const ghosts = pres
    .filter((p) => p.end - p.start >= o.ghostAfterMs)
    .filter((p) => {
      // Every instant of the window: check at the window start and at every change inside it.
      const cuts = [p.start, ...seatRecs.map((r) => r.t), ...pres.flatMap((q) => [q.start, q.end])].filter((t) => t >= p.start && t < p.start + o.ghostAfterMs);
      return cuts.every((t) => peopleAt(t) > seatsAt(t));
    })
    .map((p) => ({ t: p.start, member: p.member }));
  return {
    occupiedSeatMs,
    utilizationPct: (100 * occupiedSeatMs) / (o.seats.length * (o.operating.end - o.operating.start)),
    peakSeats: ps.n,
    peakSeatsAt: ps.at,
    peakPeople: pp.n,
    peakPeopleAt: pp.at,
    checkIns: taps.filter((t) => t.direction === "in" && t.t >= o.day.start && t.t < o.day.end).length,
    tailgating,
    ghosts,
  };
}
