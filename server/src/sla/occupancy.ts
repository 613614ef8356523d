import { PKT_OFFSET_MS, pktParts } from "./calendar.ts";
import { intersect, normalize, stepTimeline, total } from "./intervals.ts";
import type { Change, Interval } from "./intervals.ts";

/**
 * Occupancy analytics of one center over a period (docs/sla.md §Occupancy).
 * Pure: inputs are the seat timelines (edge `seat` events, ESPHome sensors) and
 * the granted door badges; the reader fetches them from InfluxDB.
 *
 * - utilization = occupied seat-time ÷ (seats × operating time), per center and zone;
 * - curves: seats occupied and people in (checked in, not yet out), hourly means;
 * - daily peaks; an hour-by-weekday heatmap of mean seats occupied (PKT);
 * - reconciliation (seats are not tied to members, so by counts): a seat taken
 *   while more seats are occupied than people are checked in is a tailgating
 *   suspect; a check-in during whose first `ghostAfter` minutes the people in
 *   always outnumber the seats used is a ghost check-in suspect.
 */
export type SeatState = "occupied" | "vacant" | "unknown";
export interface SeatInput {
  seat: string;
  zone: string;
  /** Sorted; a change at or before period.start gives the initial state. */
  changes: Change<SeatState>[];
}
export interface BadgeInput {
  t: number;
  direction: "in" | "out";
  /** Member id, or the card id when the card is not a member's. */
  who: string;
}
export interface OccupancyOptions {
  ghostAfterMs: number;
  presenceMaxMs: number;
  /** Curve bucket (default 1 h). */
  bucketMs?: number;
}

export interface OccupancyReport {
  centerId: string;
  period: Interval;
  seats: number;
  operatingMs: number;
  occupiedSeatMs: number;
  unknownSeatMs: number;
  utilizationPct: number | null;
  zones: { zone: string; seats: number; occupiedSeatMs: number; utilizationPct: number | null }[];
  /** Hourly means (time-weighted) over the whole period, operating or not. */
  curve: { t: number; seatsOccupied: number; peopleIn: number }[];
  daily: { date: string; peakSeats: number; peakSeatsAt: number | null; peakPeople: number; peakPeopleAt: number | null; checkIns: number }[];
  /** heatmap[weekday 0=Sun][hour] = mean seats occupied in that PKT hour (operating or not). */
  heatmap: number[][];
  tailgating: { t: number; seat: string; zone: string; seatsOccupied: number; peopleIn: number }[];
  ghostCheckIns: { t: number; who: string }[];
}

/** Sum of step functions: sorted (t, delta) → piecewise-constant count segments over [from, to). */
function countTimeline(deltas: { t: number; d: number }[], from: number, to: number, initial: number): { start: number; end: number; n: number }[] {
  const xs = [...deltas].sort((a, b) => a.t - b.t);
  const out: { start: number; end: number; n: number }[] = [];
  let n = initial;
  let cur = from;
  for (const x of xs) {
    if (x.t <= from) {
      n += x.d;
      continue;
    }
    if (x.t >= to) break;
    if (x.t > cur) out.push({ start: cur, end: x.t, n });
    cur = Math.max(cur, x.t);
    n += x.d;
  }
  if (to > cur) out.push({ start: cur, end: to, n });
  return out;
}

const valueAt = (segs: readonly { start: number; end: number; n: number }[], t: number): number => {
  let lo = 0;
  let hi = segs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segs[mid] as { start: number; end: number; n: number };
    if (t < s.start) hi = mid - 1;
    else if (t >= s.end) lo = mid + 1;
    else return s.n;
  }
  return 0;
};

/** Presence intervals from granted badges: in → out, or capped at presenceMax; a second "in" while in is ignored. */
export function presence(badges: readonly BadgeInput[], presenceMaxMs: number): { who: string; start: number; end: number }[] {
  const open = new Map<string, number>();
  const out: { who: string; start: number; end: number }[] = [];
  for (const b of [...badges].sort((a, c) => a.t - c.t)) {
    const since = open.get(b.who);
    if (since !== undefined && b.t - since > presenceMaxMs) {
      out.push({ who: b.who, start: since, end: since + presenceMaxMs });
      open.delete(b.who);
    }
    if (b.direction === "in") {
      if (!open.has(b.who)) open.set(b.who, b.t);
    } else {
      const s = open.get(b.who);
      if (s !== undefined) out.push({ who: b.who, start: s, end: b.t });
      open.delete(b.who);
    }
  }
  for (const [who, s] of open) out.push({ who, start: s, end: s + presenceMaxMs });
  return out.sort((a, b) => a.start - b.start);
}

export function computeOccupancy(
  input: { centerId: string; period: Interval; operating: Interval[]; seats: SeatInput[]; badges: BadgeInput[]; opts: OccupancyOptions },
): OccupancyReport {
  const { period, opts } = input;
  const op = intersect(input.operating, [period]);
  const operatingMs = total(op);
  const zones = new Map<string, { seats: number; occupiedSeatMs: number }>();
  const seatDeltas: { t: number; d: number; seat: string; zone: string }[] = [];
  let initialSeats = 0;
  let occupiedSeatMs = 0;
  let unknownSeatMs = 0;
  for (const s of input.seats) {
    const segs = stepTimeline(s.changes, period.start, period.end, "unknown" as SeatState);
    const occ = normalize(segs.filter((x) => x.state === "occupied"));
    const ms = total(intersect(occ, op));
    occupiedSeatMs += ms;
    unknownSeatMs += total(intersect(normalize(segs.filter((x) => x.state === "unknown")), op));
    const z = zones.get(s.zone) ?? { seats: 0, occupiedSeatMs: 0 };
    z.seats++;
    z.occupiedSeatMs += ms;
    zones.set(s.zone, z);
    for (const i of occ) {
      if (i.start === period.start) initialSeats++;
      else seatDeltas.push({ t: i.start, d: 1, seat: s.seat, zone: s.zone });
      if (i.end < period.end) seatDeltas.push({ t: i.end, d: -1, seat: s.seat, zone: s.zone });
    }
  }
  const seatsTl = countTimeline(seatDeltas, period.start, period.end, initialSeats);
  const pres = presence(input.badges, opts.presenceMaxMs);
  const peopleDeltas = pres.flatMap((p) => [{ t: p.start, d: 1 }, { t: p.end, d: -1 }]);
  const peopleTl = countTimeline(peopleDeltas, period.start, period.end, 0);
  const pct = (a: number, b: number) => (b > 0 ? (100 * a) / b : null);

  // Time-weighted means per bucket and per (weekday, hour).
  const bucket = opts.bucketMs ?? 3_600_000;
  const curve: OccupancyReport["curve"] = [];
  const heatSum = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
  const heatMs = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
  const mean = (tl: { start: number; end: number; n: number }[], a: number, b: number) => {
    let s = 0;
    for (const x of tl) {
      if (x.end <= a) continue;
      if (x.start >= b) break;
      s += x.n * (Math.min(b, x.end) - Math.max(a, x.start));
    }
    return b > a ? s / (b - a) : 0;
  };
  for (let a = period.start; a < period.end; a += bucket) {
    const b = Math.min(period.end, a + bucket);
    const seats = mean(seatsTl, a, b);
    curve.push({ t: a, seatsOccupied: Math.round(seats * 1000) / 1000, peopleIn: Math.round(mean(peopleTl, a, b) * 1000) / 1000 });
    const { weekday, hour } = pktParts(a);
    (heatSum[weekday] as number[])[hour] = ((heatSum[weekday] as number[])[hour] as number) + seats * (b - a);
    (heatMs[weekday] as number[])[hour] = ((heatMs[weekday] as number[])[hour] as number) + (b - a);
  }
  const heatmap = heatSum.map((row, d) => row.map((v, h) => {
    const ms = (heatMs[d] as number[])[h] as number;
    return ms > 0 ? Math.round((v / ms) * 1000) / 1000 : 0;
  }));

  // Daily peaks per PKT day, every day of the period (segments spanning midnight count on both days).
  const daily: OccupancyReport["daily"] = [];
  const DAY = 86_400_000;
  for (let d0 = Math.floor((period.start + PKT_OFFSET_MS) / DAY) * DAY - PKT_OFFSET_MS; d0 < period.end; d0 += DAY) {
    const a = Math.max(d0, period.start);
    const b = Math.min(d0 + DAY, period.end);
    const peak = (tl: CountSeg[]) => {
      let best: CountSeg | null = null;
      for (const x of within(tl, a, b)) if (x.n > (best?.n ?? 0)) best = x;
      return best ? { n: best.n, at: Math.max(best.start, a) } : { n: 0, at: null };
    };
    const ps = peak(seatsTl);
    const pp = peak(peopleTl);
    const checkIns = input.badges.filter((x) => x.direction === "in" && x.t >= a && x.t < b).length;
    daily.push({ date: pktParts(a).date, peakSeats: ps.n, peakSeatsAt: ps.at, peakPeople: pp.n, peakPeopleAt: pp.at, checkIns });
  }

  const tailgating = seatDeltas
    .filter((x) => x.d > 0)
    .map((x) => ({ t: x.t, seat: x.seat, zone: x.zone, seatsOccupied: valueAt(seatsTl, x.t), peopleIn: valueAt(peopleTl, x.t) }))
    .filter((x) => x.seatsOccupied > x.peopleIn)
    .sort((a, b) => a.t - b.t);
  const ghostCheckIns = pres
    .filter((p) => p.start >= period.start && p.start < period.end && p.end - p.start >= opts.ghostAfterMs)
    .filter((p) => {
      const w = { start: p.start, end: p.start + opts.ghostAfterMs };
      // Every instant of the window: more people in than seats used.
      return within(seatsTl, w.start, w.end).every((s) => minOver(peopleTl, Math.max(s.start, w.start), Math.min(s.end, w.end)) > s.n);
    })
    .map((p) => ({ t: p.start, who: p.who }));

  return {
    centerId: input.centerId,
    period,
    seats: input.seats.length,
    operatingMs,
    occupiedSeatMs,
    unknownSeatMs,
    utilizationPct: pct(occupiedSeatMs, input.seats.length * operatingMs),
    zones: [...zones].sort(([a], [b]) => a.localeCompare(b)).map(([zone, z]) => ({ zone, ...z, utilizationPct: pct(z.occupiedSeatMs, z.seats * operatingMs) })),
    curve,
    daily,
    heatmap,
    tailgating,
    ghostCheckIns,
  };
}

type CountSeg = { start: number; end: number; n: number };

/** Segments of a sorted, contiguous count timeline that overlap [a, b) (binary search for the first). */
function within(tl: readonly CountSeg[], a: number, b: number): CountSeg[] {
  let lo = 0;
  let hi = tl.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((tl[mid] as CountSeg).end <= a) lo = mid + 1;
    else hi = mid;
  }
  const out: CountSeg[] = [];
  for (let k = lo; k < tl.length && (tl[k] as CountSeg).start < b; k++) out.push(tl[k] as CountSeg);
  return out;
}

/** Minimum of a count timeline over [a, b) (0 where it has no segment). */
function minOver(tl: readonly CountSeg[], a: number, b: number): number {
  const xs = within(tl, a, b);
  return xs.length ? Math.min(...xs.map((x) => x.n)) : 0;
}
