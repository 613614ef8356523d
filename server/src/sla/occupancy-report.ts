import { monthPeriod, operatingCalendar, PKT_OFFSET_MS, WEEKDAYS } from "./calendar.ts";
import { centerCalendar } from "./config.ts";
import { computeOccupancy } from "./occupancy.ts";
import type { OccupancyReport } from "./occupancy.ts";
import { readOccupancy } from "./reader.ts";
import type { ReportDeps } from "./report.ts";

/** Monthly occupancy for a set of centers, from InfluxDB on demand. */
export interface OccupancyMonth {
  kind: "occupancy";
  month: string;
  generatedAt: number;
  centers: (OccupancyReport & { name: string })[];
}

export async function buildOccupancyReport(deps: ReportDeps, q: { month: string; centers: readonly string[] | "all" }): Promise<OccupancyMonth> {
  const cfg = deps.config;
  const month = monthPeriod(q.month);
  const now = deps.clock.now();
  const period = { start: month.start, end: Math.max(month.start, Math.min(month.end, now)) };
  const o = cfg.occupancy;
  const data = period.end > period.start ? await readOccupancy(deps.influx, q.centers, period, { presenceMaxMs: o.presenceMaxH * 3_600_000 }) : new Map();
  const ids = q.centers === "all" ? [...new Set([...data.keys(), ...Object.keys(cfg.centers)])].sort() : [...new Set(q.centers)].sort();
  return {
    kind: "occupancy",
    month: q.month,
    generatedAt: now,
    centers: ids.map((id) => {
      const d = data.get(id) ?? { seats: [], badges: [] };
      // Configured seats define the denominator; a configured seat never reported counts as never occupied.
      const configured = cfg.centers[id]?.seats;
      const seats = configured
        ? Object.entries(configured).map(([seat, zone]) => d.seats.find((s: { seat: string }) => s.seat === seat) ?? { seat, zone, changes: [] })
        : d.seats;
      const r = computeOccupancy({
        centerId: id,
        period,
        operating: operatingCalendar(centerCalendar(cfg, id), month).operating,
        seats,
        badges: d.badges,
        opts: { ghostAfterMs: o.ghostAfterMin * 60_000, presenceMaxMs: o.presenceMaxH * 3_600_000 },
      });
      return { ...r, name: cfg.centers[id]?.name ?? id };
    }),
  };
}

const csvCell = (v: string | number) => {
  const t = String(v);
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
};
const pktDate = (t: number | null) => (t === null ? "" : new Date(t + PKT_OFFSET_MS).toISOString().slice(0, 19).replace("T", " "));

/** One row per center and day: peaks and check-ins, with the month's utilization repeated for filtering. */
export function occupancyCsv(r: OccupancyMonth): string {
  const rows: (string | number)[][] = [
    ["center", "date", "utilization_pct_month", "peak_seats", "peak_seats_at_pkt", "peak_people", "peak_people_at_pkt", "check_ins", "tailgating_suspects_month", "ghost_checkins_month"],
  ];
  for (const c of r.centers)
    for (const d of c.daily)
      rows.push([c.centerId, d.date, c.utilizationPct?.toFixed(2) ?? "", d.peakSeats, pktDate(d.peakSeatsAt), d.peakPeople, pktDate(d.peakPeopleAt), d.checkIns, c.tailgating.length, c.ghostCheckIns.length]);
  return `${rows.map((x) => x.map(csvCell).join(",")).join("\r\n")}\r\n`;
}

const esc = (v: unknown) => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderOccupancyHtml(r: OccupancyMonth): string {
  const sections = r.centers.map((c) => {
    const max = Math.max(0.001, ...c.heatmap.flat());
    const heat = c.heatmap
      .map((row, d) => `<tr><th>${WEEKDAYS[d]}</th>${row.map((v) => `<td style="background:rgba(23,105,46,${(v / max).toFixed(2)})${v / max > 0.55 ? ";color:#fff" : ""}">${v ? v.toFixed(1) : ""}</td>`).join("")}</tr>`)
      .join("");
    return `<section><h2>${esc(c.name)} <small>(${esc(c.centerId)})</small></h2>
<p>Utilization <b>${c.utilizationPct === null ? "—" : `${c.utilizationPct.toFixed(1)}%`}</b> of ${c.seats} seats over operating hours;
${c.tailgating.length} tailgating suspects, ${c.ghostCheckIns.length} ghost check-ins.</p>
<table><tr><th>Zone</th><th>Seats</th><th>Utilization</th></tr>${c.zones.map((z) => `<tr><td>${esc(z.zone)}</td><td>${z.seats}</td><td>${z.utilizationPct?.toFixed(1) ?? "—"}%</td></tr>`).join("")}</table>
<h3>Mean seats occupied by hour (PKT)</h3><table class="heat"><tr><th></th>${Array.from({ length: 24 }, (_, h) => `<th>${h}</th>`).join("")}</tr>${heat}</table>
<h3>Daily peaks</h3><table><tr><th>Date</th><th>Peak seats</th><th>Peak people</th><th>Check-ins</th></tr>${c.daily
      .map((d) => `<tr><td>${d.date}</td><td>${d.peakSeats}</td><td>${d.peakPeople}</td><td>${d.checkIns}</td></tr>`)
      .join("")}</table></section>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>Hazri occupancy ${esc(r.month)}</title><style>
@page { size: A4; margin: 12mm; } body { font: 10px "DejaVu Sans", Arial, sans-serif; } table { border-collapse: collapse; margin: 4px 0; }
th, td { border: 1px solid #ccd; padding: 1px 4px; text-align: right; } .heat td { width: 18px; } section { break-inside: avoid-page; }
</style></head><body><h1>Hazri occupancy — ${esc(r.month)}</h1>${sections.join("\n")}</body></html>`;
}
