import type { Clock } from "../../../protocol/clock.ts";
import type { InfluxAdapter } from "../influx/adapter.ts";
import { monthPeriod, operatingCalendar } from "./calendar.ts";
import { computeCenterSla } from "./compute.ts";
import type { CenterSla, Figures, Outage } from "./compute.ts";
import { centerCalendar } from "./config.ts";
import type { SlaConfig } from "./config.ts";
import { readTimelines } from "./timelines.ts";
import type { SlaCache } from "./cache.ts";

/**
 * Monthly SLA report: every requested center computed from InfluxDB on demand
 * (late data is simply included), ranked in a league table on the figure PSEB
 * pays on: serviceable availability over known operating time with declared
 * closures (and the published load-shedding, if configured) excluded. A center
 * is flagged when it misses the availability target or the completeness
 * minimum — a center cannot rank well by going dark.
 */
/** A center registered on the server (server/src/registry/centers.ts CenterRow). */
export interface RegisteredCenter {
  id: string;
  name?: string;
  disabledAt?: number | null;
}

export interface ReportDeps {
  influx: Pick<InfluxAdapter, "query">;
  clock: Pick<Clock, "now">;
  config: SlaConfig;
  /**
   * The centers registered on the server: a network league table ("all") lists every one, also those that
   * sent nothing (flagged `no_data`), so a center cannot drop out of the ranking by going silent.
   */
  registeredCenters?: () => readonly RegisteredCenter[];
  /** Closed days' facts per center, invalidated by ingest on late data (cache.ts); the server passes one. */
  cache?: SlaCache;
}

export type Breach = "availability" | "completeness" | "no_data";
export interface CenterRow extends CenterSla {
  name: string;
  rank: number;
  breaches: Breach[];
  /** Nothing at all from the edge in the period (never reported, or silent all month). */
  noData: boolean;
}
export interface SlaReport {
  kind: "sla";
  month: string;
  period: { start: number; end: number };
  /** The end actually covered (the month, or "now" for the running month). */
  coveredUntil: number;
  generatedAt: number;
  targetPct: number;
  minCompletenessPct: number;
  centers: CenterRow[];
}

export async function buildSlaReport(deps: ReportDeps, q: { month: string; centers: readonly string[] | "all" }): Promise<SlaReport> {
  const { config: cfg } = deps;
  const month = monthPeriod(q.month);
  const now = deps.clock.now();
  const period = { start: month.start, end: Math.max(month.start, Math.min(month.end, now)) };
  const maxGapMs = cfg.heartbeatS * cfg.evidenceGapFactor * 1000;
  const read = { maxGapMs, keepaliveMs: cfg.keepaliveS * 1000, now, ...(deps.cache ? { cache: deps.cache } : {}) };
  const timelines = period.end > period.start ? await readTimelines(deps.influx, q.centers, period, read) : new Map();
  // Registered centers count from before the period's start unless disabled before it.
  const registered = q.centers === "all" ? (deps.registeredCenters?.() ?? []).filter((c) => c.disabledAt == null || c.disabledAt > period.start) : [];
  const regName = new Map(registered.map((c) => [c.id, c.name]));
  const ids =
    q.centers === "all"
      ? [...new Set([...timelines.keys(), ...Object.keys(cfg.centers), ...registered.map((c) => c.id)])].sort()
      : [...new Set(q.centers)].sort();
  const noData = new Set(ids.filter((id) => !(timelines.get(id)?.evidence ?? false)));
  const slas = ids.map((id) => {
    const t = timelines.get(id) ?? { power: [], uplink: [], dark: [{ start: period.start, end: period.end }], evidence: false };
    return computeCenterSla({
      centerId: id,
      period,
      calendar: operatingCalendar(centerCalendar(cfg, id), month),
      power: t.power,
      uplink: t.uplink,
      dark: t.dark,
      opts: { inferUpsExhausted: cfg.inferUpsExhausted, minOutageMs: cfg.minOutageS * 1000, excludeLoadShedding: cfg.excludeLoadShedding },
    });
  });
  const score = (s: CenterSla) => s.excluding.availabilityPct ?? -1;
  const ranked = [...slas].sort((a, b) => score(b) - score(a) || (b.excluding.completenessPct ?? -1) - (a.excluding.completenessPct ?? -1) || a.centerId.localeCompare(b.centerId));
  return {
    kind: "sla",
    month: q.month,
    period: month,
    coveredUntil: period.end,
    generatedAt: now,
    targetPct: cfg.targetPct,
    minCompletenessPct: cfg.minCompletenessPct,
    centers: ranked.map((s, i) => {
      const breaches: Breach[] = [];
      if ((s.excluding.availabilityPct ?? 0) < cfg.targetPct) breaches.push("availability");
      if ((s.excluding.completenessPct ?? 0) < cfg.minCompletenessPct) breaches.push("completeness");
      const nd = noData.has(s.centerId);
      if (nd) breaches.push("no_data");
      return { ...s, name: cfg.centers[s.centerId]?.name ?? (regName.get(s.centerId) || s.centerId), rank: i + 1, breaches, noData: nd };
    }),
  };
}

// ---- exports -------------------------------------------------------------

const h = (ms: number) => (ms / 3_600_000).toFixed(3);
const p = (v: number | null) => (v === null ? "" : v.toFixed(3));
const s = (ms: number | null) => (ms === null ? "" : (ms / 1000).toFixed(0));
/** RFC 4180: quote fields containing comma, quote or newline; double the quotes. */
const csvCell = (v: string | number) => {
  const t = String(v);
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
};
const csv = (rows: (string | number)[][]) => `${rows.map((r) => r.map(csvCell).join(",")).join("\r\n")}\r\n`;

export const SUMMARY_COLUMNS = [
  "rank", "center", "name", "month", "breaches",
  "availability_pct", "availability_all_pct", "completeness_pct", "power_availability_pct", "internet_availability_pct",
  "operating_h", "excluded_h", "up_h", "down_h", "unknown_h",
  "mains_h", "generator_h", "battery_h", "power_down_h",
  "outages", "mttr_s", "longest_s",
] as const;

function summaryRow(r: SlaReport, c: CenterRow): (string | number)[] {
  const e: Figures = c.excluding;
  return [
    c.rank, c.centerId, c.name, r.month, c.breaches.join(" "),
    p(e.availabilityPct), p(c.all.availabilityPct), p(e.completenessPct), p(e.power.availabilityPct), p(e.internet.availabilityPct),
    h(c.all.operatingMs), h(c.excludedMs), h(e.upMs), h(e.downMs), h(e.unknownMs),
    h(e.power.mainsMs), h(e.power.generatorMs), h(e.power.batteryMs), h(e.power.downMs),
    e.outages.count, s(e.outages.mttrMs), s(e.outages.longestMs),
  ];
}

/** League table, one row per center ("excluding" figures unless the column says `_all`). */
export function slaSummaryCsv(r: SlaReport): string {
  return csv([[...SUMMARY_COLUMNS], ...r.centers.map((c) => summaryRow(r, c))]);
}

export function slaOutagesCsv(r: SlaReport): string {
  const rows: (string | number)[][] = [["center", "start", "end", "duration_s", "cause", "counted", "excluded_s"]];
  for (const c of r.centers)
    for (const o of c.outages)
      rows.push([c.centerId, new Date(o.start).toISOString(), new Date(o.end).toISOString(), s(o.durationMs), o.cause, o.counted, s(o.excludedMs)]);
  return csv(rows);
}

export type { Outage };
