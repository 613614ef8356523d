import { PKT_OFFSET_MS } from "./calendar.ts";
import type { Figures } from "./compute.ts";
import type { CenterRow, SlaReport } from "./report.ts";

/**
 * The printable SLA report (HTML → PDF with headless Chromium, see pdf.ts).
 * Self-contained: inline CSS, no scripts, no network. Times in PKT.
 */
const esc = (v: unknown) =>
  String(v).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
const pkt = (t: number) => new Date(t + PKT_OFFSET_MS).toISOString().slice(0, 16).replace("T", " ");
const pktS = (t: number) => new Date(t + PKT_OFFSET_MS).toISOString().slice(0, 19).replace("T", " ");
const pct = (v: number | null) => (v === null ? "—" : `${v.toFixed(2)}%`);
const dur = (ms: number | null) => {
  if (ms === null) return "—";
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const m = Math.round(ms / 60_000);
  return m >= 60 ? `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min` : `${m} min`;
};
const CAUSE_LABEL: Record<string, string> = {
  mains_cut: "Mains cut (no backup)",
  generator: "Generator stopped",
  ups_exhausted: "UPS exhausted",
  internet: "Internet (WAN) down",
  edge_dark: "Edge dark (no evidence)",
  power_unknown: "Power reading unknown",
  internet_unknown: "No uplink ledger",
};

const CSS = `
@page { size: A4; margin: 14mm 12mm; }
body { font: 10.5px/1.35 "DejaVu Sans", Arial, sans-serif; color: #1b1f23; }
h1 { font-size: 19px; margin: 0 0 2px; } h2 { font-size: 14px; margin: 16px 0 4px; border-bottom: 1px solid #ccd; padding-bottom: 2px; }
.meta { color: #556; margin-bottom: 8px; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
th, td { border: 1px solid #d0d4da; padding: 2px 5px; text-align: right; } th { background: #eef1f5; }
td.l, th.l { text-align: left; }
tr.breach td { background: #fde8e8; } .bad { color: #b00020; font-weight: 600; } .ok { color: #17692e; }
.kpis { display: flex; gap: 8px; flex-wrap: wrap; } .kpi { border: 1px solid #d0d4da; border-radius: 4px; padding: 4px 8px; min-width: 110px; }
.kpi b { display: block; font-size: 15px; } .note { color: #556; font-size: 9.5px; }
section.center { break-inside: avoid-page; }
`;

function kpis(f: Figures, target: number): string {
  const cls = (f.availabilityPct ?? 0) >= target ? "ok" : "bad";
  const k = (label: string, v: string, c = "") => `<div class="kpi">${esc(label)}<b class="${c}">${esc(v)}</b></div>`;
  return `<div class="kpis">${[
    k("Serviceable", pct(f.availabilityPct), cls),
    k("Completeness", pct(f.completenessPct)),
    k("Power", pct(f.power.availabilityPct)),
    k("Internet", pct(f.internet.availabilityPct)),
    k("Outages", String(f.outages.count)),
    k("MTTR", dur(f.outages.mttrMs)),
    k("Longest", dur(f.outages.longestMs)),
  ].join("")}</div>`;
}

function centerSection(c: CenterRow, r: SlaReport, maxOutages: number): string {
  const f = c.excluding;
  const src = [
    ["Mains", f.power.mainsMs],
    ["Generator", f.power.generatorMs],
    ["UPS battery", f.power.batteryMs],
    ["No power", f.power.downMs],
    ["Unknown", f.power.unknownMs],
  ] as const;
  const outages = c.outages.slice(0, maxOutages);
  const more = c.outages.length - outages.length;
  return `<section class="center"><h2>${esc(c.rank)}. ${esc(c.name)} <span class="note">(${esc(c.centerId)})</span>${
    c.noData
      ? ` <span class="bad">— no data: nothing from this center's edge in the period</span>`
      : c.breaches.length
        ? ` <span class="bad">— below ${c.breaches.join(" and ")} target</span>`
        : ""
  }</h2>
${kpis(f, r.targetPct)}
<p class="note">Operating time ${dur(c.all.operatingMs)}, of which ${dur(c.excludedMs)} excluded (declared closures${""}/load-shedding).
Without exclusions: serviceable ${pct(c.all.availabilityPct)}, completeness ${pct(c.all.completenessPct)}.</p>
<table><tr>${src.map(([l]) => `<th>${esc(l)}</th>`).join("")}</tr><tr>${src.map(([, v]) => `<td>${dur(v)}</td>`).join("")}</tr></table>
${
  outages.length
    ? `<table><tr><th class="l">Start (PKT)</th><th class="l">End (PKT)</th><th>Duration</th><th class="l">Cause</th><th class="l">Counted as</th><th>Excluded</th></tr>
${outages
  .map(
    (o) =>
      `<tr><td class="l">${pktS(o.start)}</td><td class="l">${pktS(o.end)}</td><td>${dur(o.durationMs)}</td><td class="l">${esc(CAUSE_LABEL[o.cause] ?? o.cause)}</td><td class="l">${o.counted}</td><td>${o.excludedMs ? dur(o.excludedMs) : ""}</td></tr>`,
  )
  .join("\n")}</table>${more > 0 ? `<p class="note">… and ${more} more outages (see the CSV export).</p>` : ""}`
    : `<p class="note">No outages during operating hours.</p>`
}</section>`;
}

export function renderSlaHtml(r: SlaReport, opts: { maxOutagesPerCenter?: number; detailCenters?: number } = {}): string {
  const breaches = r.centers.filter((c) => c.breaches.length).length;
  const league = r.centers
    .map(
      (c) => `<tr class="${c.breaches.length ? "breach" : ""}"><td>${c.rank}</td><td class="l">${esc(c.name)}${c.noData ? ' <span class="bad">no data</span>' : ""}</td><td class="l">${esc(c.centerId)}</td>
<td class="${c.breaches.includes("availability") ? "bad" : ""}">${pct(c.excluding.availabilityPct)}</td><td>${pct(c.all.availabilityPct)}</td>
<td class="${c.breaches.includes("completeness") ? "bad" : ""}">${pct(c.excluding.completenessPct)}</td><td>${pct(c.excluding.power.availabilityPct)}</td>
<td>${pct(c.excluding.internet.availabilityPct)}</td><td>${c.excluding.outages.count}</td><td>${dur(c.excluding.outages.mttrMs)}</td></tr>`,
    )
    .join("\n");
  const detail = r.centers.slice(0, opts.detailCenters ?? 50).map((c) => centerSection(c, r, opts.maxOutagesPerCenter ?? 40));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hazri SLA ${esc(r.month)}</title><style>${CSS}</style></head><body>
<h1>Hazri uptime SLA — ${esc(r.month)}</h1>
<div class="meta">Period ${pkt(r.period.start)} – ${pkt(r.period.end)} PKT${r.coveredUntil < r.period.end ? ` (covered until ${pkt(r.coveredUntil)})` : ""}.
Target ${r.targetPct}% serviceable, ${r.minCompletenessPct}% completeness. Generated ${pkt(r.generatedAt)} PKT from InfluxDB; late data is included on every run.</div>
<h2>League table (${r.centers.length} centers, ${breaches} below target)</h2>
<table><tr><th>#</th><th class="l">Center</th><th class="l">Id</th><th>Serviceable</th><th>No exclusions</th><th>Completeness</th><th>Power</th><th>Internet</th><th>Outages</th><th>MTTR</th></tr>
${league}</table>
<p class="note">Serviceable = power and internet and edge healthy, over operating time with evidence, declared closures excluded (docs/sla.md).
Time without evidence is unknown, never up or down: see Completeness.</p>
${detail.join("\n")}
</body></html>`;
}
