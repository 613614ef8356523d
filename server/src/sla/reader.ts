import type { PowerSource } from "../../../protocol/events.ts";
import { HazriError } from "../../../protocol/errors.ts";
import { isValidId } from "../../../protocol/ids.ts";
import { MEASUREMENTS } from "../../../protocol/influx.ts";
import type { InfluxAdapter, InfluxSeries } from "../influx/adapter.ts";
import { normalize } from "./intervals.ts";
import type { Change, Interval } from "./intervals.ts";

/**
 * InfluxQL helpers and readers for the reports (measurement and field names
 * from protocol/influx.ts): the SLA timelines are read by timelines.ts
 * (slices, optionally cached per closed day), occupancy here. Heartbeat
 * evidence is reduced in InfluxDB: ELAPSED() between consecutive heartbeats in
 * a subquery, filtered to the gaps longer than the threshold, so a month of
 * 30 s heartbeats (89,280 points per center) never leaves the database
 * (InfluxQL reference: ELAPSED(), subqueries, InfluxDB 1.2+). The edges'
 * `boot` events (rare) refine where a dark period starts and ends
 * (evidence.ts).
 */
export interface CenterTimelines {
  power: Change<PowerSource>[];
  uplink: Change<"up" | "down">[];
  dark: Interval[];
  /** Whether the edge left anything in the period (a heartbeat, power or uplink entry, a boot). */
  evidence: boolean;
}

export interface ReadOptions {
  /** Longest gap between heartbeats that still counts as evidence (ms). */
  maxGapMs: number;
  /** How far before the period to look for the state it starts in (default 45 days). */
  lookbackMs?: number;
  /** The edges' MQTT keepalive (ms): tells a drop noticed at once from one noticed at a keepalive timeout (uplinkDownTime). */
  keepaliveMs?: number;
}

/**
 * When the WAN went down, from an uplink `down` event: `ts` is when the edge
 * noticed, `lastContactTs` the last packet it had from the broker. A silent
 * link is only noticed at a keepalive timeout (MQTT 3.1.1 §3.1.2.10), at least
 * one keepalive after the last packet, so there the last contact is the best
 * estimate. A close noticed sooner than that cannot be a timeout: the socket
 * was reset or closed (RST/FIN), noticed at once, so `ts` is the drop itself,
 * and the last contact only says the link was quiet since (up to a keepalive).
 */
export function uplinkDownTime(ts: number, lastContactTs: number | null, keepaliveMs: number | undefined): number {
  if (lastContactTs === null || lastContactTs > ts) return ts;
  return keepaliveMs !== undefined && ts - lastContactTs < keepaliveMs ? ts : lastContactTs;
}

/** InfluxDB returns RFC3339 with up to 9 fractional digits; our ms is the integer part (influx.ts time key). */
export function parseInfluxTime(v: unknown): number {
  if (typeof v === "number") return v;
  const m = typeof v === "string" ? /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(v) : null;
  if (!m) throw new HazriError("INGEST_INFLUX_QUERY", `unexpected time value from InfluxDB: ${JSON.stringify(v)}`);
  return Date.parse(`${m[1]}Z`) + Number((m[2] ?? "").padEnd(9, "0").slice(0, 3));
}

export const iso = (t: number) => new Date(t).toISOString();

/** WHERE fragment for a set of centers (ids are `[A-Za-z0-9_-]`, checked: nothing to escape in a regex). */
export function centerFilter(centers: readonly string[] | "all"): string {
  if (centers === "all") return "";
  for (const c of centers) if (!isValidId(c)) throw new HazriError("API_BAD_REQUEST", `invalid center id ${JSON.stringify(c)}`);
  if (centers.length === 0) return ` AND "center" = ''`;
  return centers.length === 1 ? ` AND "center" = '${centers[0]}'` : ` AND "center" =~ /^(${centers.join("|")})$/`;
}

/** Rows of a GROUP BY center result: center → [time, ...columns]. */
export function byCenter(series: readonly InfluxSeries[]): Map<string, { cols: string[]; rows: unknown[][] }> {
  const out = new Map<string, { cols: string[]; rows: unknown[][] }>();
  for (const s of series) {
    const c = s.tags?.center;
    if (c === undefined) continue;
    const e = out.get(c) ?? { cols: s.columns, rows: [] };
    e.rows.push(...s.values);
    out.set(c, e);
  }
  return out;
}

export const col = (cols: string[], name: string) => {
  const i = cols.indexOf(name);
  if (i < 0) throw new HazriError("INGEST_INFLUX_QUERY", `column ${name} missing from InfluxDB answer (${cols.join(",")})`);
  return i;
};

/**
 * Dark intervals within `[from, to)` from heartbeat facts: the first and last
 * heartbeat in `[from - gap, to + gap)` and every gap longer than `maxGapMs`
 * between consecutive heartbeats (as `[previous, next]`). Known edge: an edge
 * that went dark less than `maxGapMs` before `to` and came back later than
 * `to + gap` is not seen as dark for that last stretch (≤ maxGapMs).
 */
export function darkFromGaps(f: { first: number | null; last: number | null; gaps: Interval[] }, from: number, to: number, maxGapMs: number): Interval[] {
  if (f.first === null || f.last === null) return [{ start: from, end: to }];
  const out: Interval[] = [...f.gaps];
  if (f.first > from) out.push({ start: from, end: f.first });
  if (f.last < to && to - f.last > maxGapMs) out.push({ start: f.last, end: to });
  return normalize(out.map((i) => ({ start: Math.max(i.start, from), end: Math.min(i.end, to) })));
}

/** Seat timelines and granted badges for occupancy, per center (seat/zone are tags, protocol/influx.ts). */
export interface OccupancyData {
  seats: { seat: string; zone: string; changes: Change<"occupied" | "vacant" | "unknown">[] }[];
  badges: { t: number; direction: "in" | "out"; who: string }[];
}

export async function readOccupancy(
  influx: Pick<InfluxAdapter, "query">,
  centers: readonly string[] | "all",
  period: Interval,
  opts: { presenceMaxMs: number; lookbackMs?: number },
): Promise<Map<string, OccupancyData>> {
  const cf = centerFilter(centers);
  const look = opts.lookbackMs ?? 45 * 86_400_000;
  const S = `"${MEASUREMENTS.seat}"`;
  const A = `"${MEASUREMENTS.badge}"`;
  const [seatRows, seatPrior, badgeRows] = await Promise.all([
    influx.query(`SELECT "state" FROM ${S} WHERE time >= '${iso(period.start)}' AND time < '${iso(period.end)}'${cf} GROUP BY "center", "seat", "zone"`),
    influx.query(`SELECT LAST("state") AS "state" FROM ${S} WHERE time >= '${iso(period.start - look)}' AND time < '${iso(period.start)}'${cf} GROUP BY "center", "seat", "zone"`),
    // Members still in at the start checked in up to presenceMax before it.
    influx.query(
      `SELECT "member", "card" FROM ${A} WHERE "decision" = 'granted' AND time >= '${iso(period.start - opts.presenceMaxMs)}' AND time < '${iso(period.end)}'${cf} GROUP BY "center", "direction"`,
    ),
  ]);
  const out = new Map<string, OccupancyData>();
  const get = (c: string) => {
    let d = out.get(c);
    if (!d) out.set(c, (d = { seats: [], badges: [] }));
    return d;
  };
  const seatMap = new Map<string, OccupancyData["seats"][number]>();
  for (const s of [...seatPrior, ...seatRows]) {
    const c = s.tags?.center;
    const seat = s.tags?.seat;
    const zone = s.tags?.zone;
    if (!c || !seat || zone === undefined) continue;
    const key = `${c}\u0000${seat}`;
    let e = seatMap.get(key);
    if (!e) {
      seatMap.set(key, (e = { seat, zone, changes: [] }));
      get(c).seats.push(e);
    }
    const ti = col(s.columns, "time");
    const vi = col(s.columns, "state");
    for (const r of s.values) {
      const v = r[vi];
      if (v === "occupied" || v === "vacant" || v === "unknown") e.changes.push({ t: parseInfluxTime(r[ti]), state: v });
    }
  }
  for (const d of out.values()) for (const s of d.seats) s.changes.sort((a, b) => a.t - b.t);
  for (const s of badgeRows) {
    const c = s.tags?.center;
    const dir = s.tags?.direction;
    if (!c || (dir !== "in" && dir !== "out")) continue;
    const ti = col(s.columns, "time");
    const mi = col(s.columns, "member");
    const ci = col(s.columns, "card");
    for (const r of s.values) {
      const who = typeof r[mi] === "string" && r[mi] !== "" ? `m:${r[mi] as string}` : `card:${String(r[ci])}`;
      get(c).badges.push({ t: parseInfluxTime(r[ti]), direction: dir, who });
    }
  }
  for (const d of out.values()) d.badges.sort((a, b) => a.t - b.t);
  return out;
}
