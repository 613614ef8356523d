import type { PowerSource } from "../../../protocol/events.ts";
import { MEASUREMENTS } from "../../../protocol/influx.ts";
import type { InfluxAdapter } from "../influx/adapter.ts";
import type { SlaCache } from "./cache.ts";
import { PKT_OFFSET_MS } from "./calendar.ts";
import { darkFromEvidence } from "./evidence.ts";
import { combinePower } from "./power-combine.ts";
import type { DevicePower } from "./power-combine.ts";
import type { BootFact } from "./evidence.ts";
import type { Interval } from "./intervals.ts";
import { isValidId } from "../../../protocol/ids.ts";
import { byCenter, centerFilter, col, iso, parseInfluxTime, uplinkDownTime } from "./reader.ts";
import type { CenterTimelines, ReadOptions } from "./reader.ts";

/**
 * The SLA's three timelines per center (power, uplink, evidence) from
 * InfluxDB, read as contiguous time *slices* whose facts compose exactly:
 * power and uplink entries concatenate; heartbeat evidence is the first and
 * last heartbeat of each slice plus the gaps inside it (ELAPSED() in
 * InfluxDB), and a gap across two slices is the last of one to the first of
 * the next. So a month is either one slice (the CLI, no cache) or one slice
 * per PKT day, where closed days come from the SlaCache (cache.ts) and only
 * the running day, the edges of the period and the state before it are read
 * on every build.
 *
 * Per slice and set of centers a fixed number of queries (GROUP BY center):
 * 250 centers cost the same round trips as one.
 */
export interface SliceFacts {
  /** Power `source` per `device` by point time (ascending); a device's repeats (samples) dropped. */
  power: DevicePower[];
  /** Uplink `state` by point time, with `last_contact_ts` when written. */
  uplink: { t: number; v: string; lc: number | null }[];
  /** First/last heartbeat in the slice; gaps longer than maxGap between heartbeats inside it. */
  first: number | null;
  last: number | null;
  gaps: Interval[];
  boots: BootFact[];
}

export const emptySlice = (): SliceFacts => ({ power: [], uplink: [], first: null, last: null, gaps: [], boots: [] });

export interface SliceParts {
  changes?: boolean;
  heartbeats?: boolean;
  boots?: boolean;
}

const DAY = 86_400_000;

/** PKT days overlapping the period, each cut to it. */
export function pktDays(p: Interval): Interval[] {
  const out: Interval[] = [];
  for (let d = Math.floor((p.start + PKT_OFFSET_MS) / DAY) * DAY - PKT_OFFSET_MS; d < p.end; d += DAY) {
    out.push({ start: Math.max(d, p.start), end: Math.min(d + DAY, p.end) });
  }
  return out;
}

/** PKT midnight at or before `t`. */
export const pktDayStart = (t: number) => Math.floor((t + PKT_OFFSET_MS) / DAY) * DAY - PKT_OFFSET_MS;

async function rowsOf(influx: Pick<InfluxAdapter, "query">, q: string, fields: string[]): Promise<Map<string, { t: number; f: unknown[] }[]>> {
  const out = new Map<string, { t: number; f: unknown[] }[]>();
  for (const [c, { cols, rows }] of byCenter(await influx.query(q))) {
    const ti = col(cols, "time");
    // A field never written is absent from the answer (older edges): -1 reads as null.
    const fi = fields.map((f) => cols.indexOf(f));
    out.set(c, rows.map((r) => ({ t: parseInfluxTime(r[ti]), f: fi.map((i) => (i >= 0 ? (r[i] ?? null) : null)) })));
  }
  return out;
}

/** Facts of one slice `[start, end)` for a set of centers. */
export async function readSlice(
  influx: Pick<InfluxAdapter, "query">,
  centers: readonly string[] | "all",
  slice: Interval,
  maxGapMs: number,
  parts: SliceParts = { changes: true, heartbeats: true, boots: true },
): Promise<Map<string, SliceFacts>> {
  const w = `time >= '${iso(slice.start)}' AND time < '${iso(slice.end)}'${centerFilter(centers)}`;
  const HB = `"${MEASUREMENTS.heartbeat}"`;
  const none = Promise.resolve(new Map<string, { t: number; f: unknown[] }[]>());
  const [power, uplink, first, last, gaps, boots] = await Promise.all([
    parts.changes ? rowsOf(influx, `SELECT "source", "device" FROM "${MEASUREMENTS.power}" WHERE ${w} GROUP BY "center"`, ["source", "device"]) : none,
    parts.changes ? rowsOf(influx, `SELECT "state", "last_contact_ts" FROM "${MEASUREMENTS.uplink}" WHERE ${w} GROUP BY "center"`, ["state", "last_contact_ts"]) : none,
    parts.heartbeats ? rowsOf(influx, `SELECT FIRST("seq") AS "seq" FROM ${HB} WHERE ${w} GROUP BY "center"`, ["seq"]) : none,
    parts.heartbeats ? rowsOf(influx, `SELECT LAST("seq") AS "seq" FROM ${HB} WHERE ${w} GROUP BY "center"`, ["seq"]) : none,
    // Heartbeat gaps reduced inside InfluxDB: ELAPSED() between consecutive heartbeats, only the long ones leave.
    parts.heartbeats
      ? rowsOf(influx, `SELECT "e" FROM (SELECT ELAPSED("seq", 1ms) AS "e" FROM ${HB} WHERE ${w} GROUP BY "center") WHERE "e" > ${Math.floor(maxGapMs)} GROUP BY "center"`, ["e"])
      : none,
    // prev_alive_ts -1 = unknown (protocol/influx.ts: a field cannot be null).
    parts.boots ? rowsOf(influx, `SELECT "prev_alive_ts" FROM "${MEASUREMENTS.boot}" WHERE ${w} GROUP BY "center"`, ["prev_alive_ts"]) : none,
  ]);
  const out = new Map<string, SliceFacts>();
  const get = (c: string) => {
    let f = out.get(c);
    if (!f) out.set(c, (f = emptySlice()));
    return f;
  };
  for (const [c, rs] of power) {
    const list = get(c).power;
    const lastOf = new Map<string, string>();
    // A boot resets the devices (power-combine.ts): the first report after it is never a repeat.
    const bootTimes = (boots.get(c) ?? []).map((b) => b.t).sort((a, b) => a - b);
    let bi = 0;
    for (const r of rs) {
      if (r.f[0] === null) continue;
      while (bi < bootTimes.length && (bootTimes[bi] as number) <= r.t) {
        lastOf.clear();
        bi++;
      }
      const device = typeof r.f[1] === "string" ? r.f[1] : "";
      const v = String(r.f[0]);
      if (lastOf.get(device) === v) continue; // a periodic sample repeats the state
      lastOf.set(device, v);
      list.push({ t: r.t, device, source: v as PowerSource });
    }
  }
  for (const [c, rs] of uplink)
    for (const r of rs) if (r.f[0] !== null) get(c).uplink.push({ t: r.t, v: String(r.f[0]), lc: typeof r.f[1] === "number" ? r.f[1] : null });
  for (const [c, rs] of first) get(c).first = rs[0]?.t ?? null;
  for (const [c, rs] of last) get(c).last = rs[0]?.t ?? null;
  for (const [c, rs] of gaps) get(c).gaps = rs.map((r) => ({ start: r.t - Number(r.f[0]), end: r.t }));
  for (const [c, rs] of boots) get(c).boots = rs.map((r) => ({ ts: r.t, prevAliveTs: Number(r.f[0]) >= 0 ? Number(r.f[0]) : null }));
  return out;
}

/** Contiguous slices (in time order) → one: concatenated entries, heartbeat gaps across slice edges added. */
export function combineSlices(slices: readonly (SliceFacts | undefined)[], maxGapMs: number): SliceFacts {
  const out = emptySlice();
  for (const s of slices) {
    if (!s) continue;
    out.power.push(...s.power);
    out.uplink.push(...s.uplink);
    out.boots.push(...s.boots);
    out.gaps.push(...s.gaps);
    if (s.first !== null) {
      if (out.last !== null && s.first - out.last > maxGapMs) out.gaps.push({ start: out.last, end: s.first });
      out.first ??= s.first;
    }
    if (s.last !== null) out.last = s.last;
  }
  return out;
}

/** Limit concurrent InfluxDB work (each slice is 6 queries). */
async function mapLimit<T, R>(xs: readonly T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(xs.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < xs.length; i = next++) out[i] = await fn(xs[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(n, xs.length) }, worker));
  return out;
}

export interface TimelineOptions extends ReadOptions {
  /** Closed days' slices from here (and remembered); without it the period is read as one slice. */
  cache?: SlaCache;
  /** Days ending at or before this are closed (default: the period end). */
  now?: number;
}

export async function readTimelines(
  influx: Pick<InfluxAdapter, "query">,
  centers: readonly string[] | "all",
  period: Interval,
  opts: TimelineOptions,
): Promise<Map<string, CenterTimelines>> {
  const cf = centerFilter(centers);
  const look = opts.lookbackMs ?? 45 * DAY;
  const g = opts.maxGapMs;
  const before = `time >= '${iso(period.start - look)}' AND time < '${iso(period.start)}'${cf}`;
  const P = `"${MEASUREMENTS.power}"`;
  const now = opts.now ?? period.end;
  const main = async (): Promise<Map<string, SliceFacts>[]> => {
    if (!opts.cache) return [await readSlice(influx, centers, period, g)];
    const cache = opts.cache;
    return mapLimit(pktDays(period), 3, (d) =>
      d.end - d.start === DAY && d.end <= now ? cache.day(centers, d, (cs) => readSlice(influx, cs, d, g), String(g)) : readSlice(influx, centers, d, g),
    );
  };
  const [powerPrior, bootPrior, poweredPrior, uplinkPrior, pre, post, late, mains] = await Promise.all([
    // The last point before the period, with its device; the last boot before it (resets the devices).
    rowsOf(influx, `SELECT LAST("source") AS "source", "device" FROM ${P} WHERE ${before} GROUP BY "center"`, ["source", "device"]),
    rowsOf(influx, `SELECT LAST("prev_alive_ts") AS "p" FROM "${MEASUREMENTS.boot}" WHERE ${before} GROUP BY "center"`, ["p"]),
    // The last source that carried the load before the period: names the cause of a cut already under way.
    rowsOf(influx, `SELECT LAST("source") AS "source" FROM ${P} WHERE ${before} AND "source" != 'down' AND "source" != 'unknown' GROUP BY "center"`, ["source"]),
    rowsOf(influx, `SELECT LAST("state") AS "state" FROM "${MEASUREMENTS.uplink}" WHERE ${before} GROUP BY "center"`, ["state"]),
    // Evidence just outside the period tells whether its first and last stretches were dark.
    readSlice(influx, centers, { start: period.start - g, end: period.start }, g, { heartbeats: true, boots: true }),
    readSlice(influx, centers, { start: period.end, end: period.end + g }, g, { heartbeats: true, boots: true }),
    // A boot after the period can end a dark period that runs past its end (evidence.ts).
    readSlice(influx, centers, { start: period.end + g, end: period.end + look }, g, { boots: true }),
    main(),
  ]);
  // Each device's own last state before the period (a UPS stable on mains may report nothing for weeks): one
  // LAST per device name seen in the period or last before it (device is a field, not a tag: no GROUP BY).
  const names = new Set<string>();
  const addName = (d: unknown) => typeof d === "string" && isValidId(d) && names.add(d); // ids are [A-Za-z0-9_-]: safe in a string literal
  for (const rs of powerPrior.values()) for (const r of rs) addName(r.f[1]);
  for (const m of mains) for (const f of m.values()) for (const p of f.power) addName(p.device);
  const perDevice = await Promise.all(
    [...names].map(async (d) => ({
      d,
      rows: await rowsOf(influx, `SELECT LAST("source") AS "source" FROM ${P} WHERE ${before} AND "device" = '${d}' GROUP BY "center"`, ["source"]),
    })),
  );
  const ids =
    centers === "all"
      ? new Set([...powerPrior.keys(), ...uplinkPrior.keys(), ...pre.keys(), ...post.keys(), ...mains.flatMap((m) => [...m.keys()])])
      : new Set(centers);
  const out = new Map<string, CenterTimelines>();
  const inPeriod = (t: number) => t >= period.start && t < period.end;
  for (const c of ids) {
    const inside = combineSlices(mains.map((m) => m.get(c)), g);
    const all = combineSlices([pre.get(c), inside, post.get(c)], g);
    const lastBoot = bootPrior.get(c)?.[0]?.t ?? -Infinity;
    const prior: DevicePower[] = [
      ...(powerPrior.get(c) ?? []).map((r) => ({ t: r.t, device: typeof r.f[1] === "string" ? r.f[1] : "", source: r.f[0] })),
      ...perDevice.flatMap(({ d, rows }) => (rows.get(c) ?? []).map((r) => ({ t: r.t, device: d, source: r.f[0] }))),
    ]
      // A device last heard of before the edge's last restart was not reported by the run since.
      .filter((r) => r.source !== null && r.t >= lastBoot)
      .map((r) => ({ t: r.t, device: r.device, source: String(r.source) as PowerSource }));
    // The last source that carried the load before the period names the cause of a cut already under way;
    // it goes first, so the devices' own states decide the state at the start.
    const powered = (poweredPrior.get(c) ?? []).map((r) => ({ t: period.start - look - 1, state: String(r.f[0]) as PowerSource }));
    // A silent WAN drop is noticed only at a keepalive timeout (MQTT 3.1.1 §3.1.2.10); the edge
    // records the last packet it received as last_contact_ts (uplinkDownTime picks the estimate).
    const uplink = inside.uplink.map((u) => ({ t: uplinkDownTime(u.t, u.lc, opts.keepaliveMs), v: u.v })).sort((a, b) => a.t - b.t);
    const boots = [...all.boots, ...(late.get(c)?.boots ?? [])];
    out.set(c, {
      power: [...powered, ...combinePower(prior, inside.power, all.boots.map((b) => b.ts))],
      uplink: [
        ...(uplinkPrior.get(c) ?? []).map((r) => ({ t: r.t, state: r.f[0] === "up" ? ("up" as const) : ("down" as const) })),
        ...uplink.map((r) => ({ t: r.t, state: r.v === "up" ? ("up" as const) : ("down" as const) })),
      ],
      dark: darkFromEvidence({ first: all.first, last: all.last, gaps: all.gaps, boots }, period.start, period.end, g),
      evidence:
        (all.first !== null && all.last !== null && all.first < period.end && all.last >= period.start) ||
        inside.power.length > 0 ||
        inside.uplink.length > 0 ||
        boots.some((b) => inPeriod(b.ts)),
    });
  }
  return out;
}
