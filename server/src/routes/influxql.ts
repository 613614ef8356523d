import type { EventType } from "../../../protocol/events.ts";
import { MEASUREMENTS } from "../../../protocol/influx.ts";
import type { InfluxSeries } from "../influx/adapter.ts";

/**
 * Pure helpers for the event queries: building InfluxQL and turning its rows
 * back into API objects. Strings are inlined as single-quoted literals with
 * `\` and `'` escaped (InfluxQL spec, "Strings"); times are integer
 * nanoseconds, which InfluxQL compares with `time` directly. Nothing here
 * reaches InfluxDB unescaped: center ids are validated ids, member ids are
 * escaped, type names come from MEASUREMENTS.
 */
export const EVENT_TYPES = Object.keys(MEASUREMENTS) as EventType[];
const TYPE_OF: Record<string, EventType> = Object.fromEntries(Object.entries(MEASUREMENTS).map(([t, m]) => [m, t as EventType]));

export const quoteString = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
export const quoteIdent = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

export interface EventsQuerySpec {
  types: readonly EventType[];
  centerId?: string | undefined;
  /** Inclusive lower bound, ns. */
  fromNs: bigint;
  /** Exclusive upper bound, ns (the cursor of the next page, or `to`). */
  beforeNs: bigint;
  limit: number;
  /** Extra equality filters: tag or field name → string value. */
  where?: Record<string, string>;
  order?: "desc" | "asc";
}

export function buildEventsQuery(q: EventsQuerySpec): string {
  const from = q.types.map((t) => quoteIdent(MEASUREMENTS[t])).join(",");
  const cond = [`time >= ${q.fromNs}`, `time < ${q.beforeNs}`];
  if (q.centerId !== undefined) cond.unshift(`${quoteIdent("center")} = ${quoteString(q.centerId)}`);
  for (const [k, v] of Object.entries(q.where ?? {})) cond.push(`${quoteIdent(k)} = ${quoteString(v)}`);
  return `SELECT * FROM ${from} WHERE ${cond.join(" AND ")} ORDER BY time ${q.order === "asc" ? "ASC" : "DESC"} LIMIT ${q.limit}`;
}

/** RFC 3339 with up to 9 fractional digits (InfluxDB 1.x JSON, trailing zeros trimmed) → ns. */
export function rfc3339ToNs(s: string): bigint | null {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(s);
  if (!m) return null;
  const sec = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(sec)) return null;
  return BigInt(sec) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

export interface EventRow {
  type: EventType;
  /** Capture time, epoch ms. */
  ts: number;
  centerId: string;
  seq: number;
  /** Opaque page cursor: the point's time in ns (unique per center: it carries the seq, protocol/influx.ts). */
  cursor: string;
  [field: string]: unknown;
}

/**
 * Series rows → API rows, newest first (or oldest first for "asc"), at most
 * `limit`. Each measurement answers with its own series and its own LIMIT,
 * so merging them and cutting at `limit` is exact.
 */
export function seriesToRows(series: InfluxSeries[], limit: number, order: "desc" | "asc" = "desc"): EventRow[] {
  const rows: (EventRow & { ns: bigint })[] = [];
  for (const s of series) {
    const type = TYPE_OF[s.name];
    if (!type) continue;
    for (const v of s.values) {
      const o: Record<string, unknown> = {};
      s.columns.forEach((c, i) => {
        if (v[i] !== null && v[i] !== undefined) o[c] = v[i];
      });
      const ns = typeof o.time === "string" ? rfc3339ToNs(o.time) : null;
      if (ns === null) continue;
      const { time: _t, center, seq, ...rest } = o;
      rows.push({
        ...rest,
        type,
        ts: Number(ns / 1_000_000n),
        centerId: String(center ?? s.tags?.center ?? ""),
        seq: typeof seq === "number" ? seq : Number(seq),
        cursor: ns.toString(),
        ns,
      });
    }
  }
  rows.sort((a, b) => (a.ns === b.ns ? 0 : (a.ns < b.ns) === (order === "desc") ? 1 : -1));
  return rows.slice(0, limit).map(({ ns: _ns, ...r }) => r);
}

/** Pakistan Standard Time is UTC+5 all year (no DST since 2009): month boundaries for "hours this month". */
export const PKT_OFFSET_MS = 5 * 3_600_000;

export function pktMonthRange(month: string): { fromMs: number; toMs: number } {
  const [y, m] = month.split("-").map(Number) as [number, number];
  return { fromMs: Date.UTC(y, m - 1, 1) - PKT_OFFSET_MS, toMs: Date.UTC(y, m, 1) - PKT_OFFSET_MS };
}

export function pktMonthOf(ms: number): string {
  const d = new Date(ms + PKT_OFFSET_MS);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

export interface Visit {
  centerId: string;
  in: number;
  out: number | null;
  hours: number;
}

/**
 * Granted badges of one member (any order) → visits: an "in" is closed by the
 * next "out" at the same center. An "in" followed by another "in" (no badge
 * out: tailgating out, or the daily automatic check-out) stays open and
 * counts 0 hours — we never invent a leaving time. An "out" with no "in" is
 * ignored.
 */
export function pairVisits(badges: { centerId: string; ts: number; direction: string }[]): { visits: Visit[]; hours: number } {
  const sorted = [...badges].sort((a, b) => a.ts - b.ts);
  const open = new Map<string, Visit>();
  const visits: Visit[] = [];
  for (const b of sorted) {
    if (b.direction === "in") {
      const v: Visit = { centerId: b.centerId, in: b.ts, out: null, hours: 0 };
      open.set(b.centerId, v);
      visits.push(v);
    } else if (b.direction === "out") {
      const v = open.get(b.centerId);
      if (!v) continue;
      v.out = b.ts;
      v.hours = Math.round(((b.ts - v.in) / 3_600_000) * 100) / 100;
      open.delete(b.centerId);
    }
  }
  const hours = Math.round(visits.reduce((n, v) => n + v.hours, 0) * 100) / 100;
  return { visits, hours };
}
