import { useMemo, useState } from "preact/hooks";
import type { ApiError } from "../api.ts";
import { LineChart } from "../chart.ts";
import { useLoad } from "../hooks.ts";
import {
  fmtDuration,
  fmtTime,
  monthRange,
  outagesFromTimelines,
  pktMonth,
  stepSegments,
  toCsv,
  type Segment,
  type SlaCenterRow,
  type SlaOutage,
  type SlaReport,
} from "../model.ts";
import { download, ErrorState, html, StateBox, type Ctx } from "../ui.ts";

interface EventRow {
  type: string;
  ts: number;
  source?: string;
  state?: string;
  charge_pct?: number;
}

/**
 * SLA report of one center for a month: power and internet timeline (from the
 * raw events), UPS charge chart, outages with causes, monthly figures from
 * `GET /api/reports/sla` (a clear "not available" when that service is not
 * deployed), CSV download and a print view for PDF.
 */
export function SlaPage(p: { ctx: Ctx; centerId: string }) {
  const { ctx, centerId } = p;
  const enc = encodeURIComponent(centerId);
  const [month, setMonth] = useState(pktMonth(Date.now()));
  const { from, to } = monthRange(month);
  const until = Math.min(to, Date.now());
  // The bars cover the month, or zoom to the last day / hour (a fresh center's month is one sliver at the end).
  const [zoom, setZoom] = useState<"month" | "day" | "hour">("month");
  const barFrom = zoom === "month" ? from : Math.max(from, until - (zoom === "day" ? 86_400_000 : 3_600_000));

  const events = useLoad(async () => {
    const rows: EventRow[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const q: string = `/api/centers/${enc}/events?type=power,uplink&from=${from}&to=${to}&limit=1000${cursor ? `&cursor=${cursor}` : ""}`;
      const page: { events?: EventRow[]; items?: EventRow[]; nextCursor?: string | null } = await ctx.api.get(q);
      rows.push(...(page.events ?? page.items ?? []));
      cursor = page.nextCursor ?? null;
      if (!cursor) break;
    }
    return rows;
  }, `${centerId}/${month}`);
  const report = useLoad<SlaCenterRow | "unavailable" | null>(async () => {
    try {
      const r = await ctx.api.get<SlaReport>(`/api/reports/sla?month=${month}&center=${enc}`);
      return r.centers.find((c) => c.centerId === centerId) ?? null;
    } catch (e) {
      const k = (e as ApiError).kind;
      if (k === "no_route" || k === "not_found") return "unavailable";
      throw e;
    }
  }, `${month}`);

  const power = useMemo(
    () => stepSegments((events.data ?? []).filter((e) => e.type === "power").map((e) => ({ ts: e.ts, state: String(e.source) })), from, until),
    [events.data, from, until],
  );
  const uplink = useMemo(
    () => stepSegments((events.data ?? []).filter((e) => e.type === "uplink").map((e) => ({ ts: e.ts, state: String(e.state) })), from, until),
    [events.data, from, until],
  );
  const charge = useMemo(() => (events.data ?? []).filter((e) => e.type === "power" && typeof e.charge_pct === "number").sort((a, b) => a.ts - b.ts), [events.data]);
  const row = report.data && report.data !== "unavailable" ? report.data : null;
  const outages: SlaOutage[] = row ? row.outages : outagesFromTimelines(power, uplink);

  const [dlError, setDlError] = useState<string | null>(null);
  /** The SLA service's own CSV / PDF when it is deployed; otherwise CSV from the raw events and the print view. */
  const fromServer = async (format: "csv" | "pdf") => {
    setDlError(null);
    try {
      const r = await ctx.api.blob(`/api/reports/sla?month=${month}&center=${enc}&format=${format}${format === "csv" ? "&table=outages" : ""}`);
      download(r.filename ?? `hazri-sla-${centerId}-${month}.${format}`, r.blob);
    } catch (e) {
      setDlError((e as Error).message);
    }
  };
  const csv = () => {
    if (row) return void fromServer("csv");
    const lines = outages.map((o) => [new Date(o.start).toISOString(), new Date(o.end).toISOString(), Math.round(o.durationMs / 1000), o.cause, o.counted]);
    const head = `# center ${centerId}, month ${month}, outages derived from raw events (SLA service not available)\r\n`;
    download(`hazri-sla-${centerId}-${month}.csv`, head + toCsv(["start", "end", "duration_s", "cause", "counted"], lines));
  };

  return html`<section class="sla" data-testid="sla" data-center=${centerId}>
    <header class="page-head">
      <h1>${ctx.t("sla")} — ${centerId}</h1>
      <div class="head-tools no-print">
        <label>${ctx.t("month")} <input type="month" value=${month} data-testid="month" onChange=${(e: Event) => setMonth((e.target as HTMLInputElement).value || month)} /></label>
        <button onClick=${csv} data-testid="download-csv">${ctx.t("downloadCsv")}</button>
        <button onClick=${() => (row ? void fromServer("pdf") : window.print())} data-testid="download-pdf">${row ? "PDF" : ctx.t("downloadPdf")}</button>
        <a class="button" href=${`#/center/${enc}`}>${ctx.t("board")}</a>
      </div>
    </header>
    ${dlError ? html`<${StateBox} kind="error" testid="state-download-failed">${dlError}<//>` : null}
    <div class="card">
      <h2>${ctx.t("figures")}</h2>
      ${report.loading ? html`<p class="muted">${ctx.t("loading")}</p>` : null}
      ${report.data === "unavailable" ? html`<${StateBox} kind="info" testid="state-sla-unavailable">${ctx.t("slaNotAvailable")}<//>` : null}
      ${report.error ? html`<${ErrorState} ctx=${ctx} error=${report.error} retry=${report.reload} />` : null}
      ${row ? html`<${FiguresTable} ctx=${ctx} row=${row} />` : null}
    </div>
    <div class="card">
      <h2>${ctx.t("timeline")}</h2>
      ${events.error ? html`<${ErrorState} ctx=${ctx} error=${events.error} retry=${events.reload} />` : null}
      ${events.loading ? html`<p class="muted">${ctx.t("loading")}</p>` : null}
      ${!events.loading && power.length === 0 && uplink.length === 0 ? html`<p class="muted" data-testid="timeline-empty">${ctx.t("noReading")}</p>` : null}
      <div class="filters no-print">
        ${(["month", "day", "hour"] as const).map(
          (z) => html`<button class=${zoom === z ? "active" : ""} data-testid=${`zoom-${z}`} onClick=${() => setZoom(z)}>${ctx.t(`zoom_${z}`)}</button>`,
        )}
      </div>
      <${Bar} ctx=${ctx} label=${ctx.t("power")} segs=${clipSegs(power, barFrom)} from=${barFrom} to=${until} prefix="src_" testid="timeline-power" />
      <${Bar} ctx=${ctx} label=${ctx.t("internet")} segs=${clipSegs(uplink, barFrom)} from=${barFrom} to=${until} prefix="" testid="timeline-internet" />
      <div class="tl-axis" dir="ltr"><span>${fmtTime(barFrom, true)}</span><span>${fmtTime(until, true)}</span></div>
      ${charge.length > 0
        ? html`<${LineChart} title=${`${ctx.t("ups")} ${ctx.t("battery")} %`} xs=${charge.map((c) => c.ts)}
            series=${[{ label: "%", values: charge.map((c) => c.charge_pct ?? null), color: "#1565c0" }]} yRange=${[0, 100]} testid="chart-charge" />`
        : null}
    </div>
    <div class="card">
      <h2>${ctx.t("outages")}</h2>
      ${outages.length === 0
        ? html`<p class="muted" data-testid="no-outages">${ctx.t("noOutages")}</p>`
        : html`<table data-testid="outages"><thead><tr><th>${ctx.t("start")}</th><th>${ctx.t("end")}</th><th>${ctx.t("duration")}</th><th>${ctx.t("cause")}</th></tr></thead>
          <tbody>${outages.map((o) => html`<tr class=${o.counted === "down" ? "bad" : ""}><td>${fmtTime(o.start, true)}</td><td>${fmtTime(o.end, true)}</td><td>${fmtDuration(o.durationMs)}</td><td>${ctx.t(`cause_${o.cause}`)}</td></tr>`)}</tbody></table>`}
    </div>
  </section>`;
}

const clipSegs = (segs: Segment[], from: number): Segment[] =>
  segs.filter((s) => s.end > from).map((s) => ({ ...s, start: Math.max(s.start, from) }));

function FiguresTable(p: { ctx: Ctx; row: SlaCenterRow }) {
  const f = p.row.excluding;
  const pct = (v: number | null) => (v === null ? "—" : `${v.toFixed(2)}%`);
  return html`<table class="figures" data-testid="figures">
    <tr><th>${p.ctx.t("availability")}</th><td class=${p.row.breaches.includes("availability") ? "bad" : ""}>${pct(f.availabilityPct)}</td></tr>
    <tr><th>${p.ctx.t("power")}</th><td>${pct(f.power.availabilityPct)}</td></tr>
    <tr><th>${p.ctx.t("internet")}</th><td>${pct(f.internet.availabilityPct)}</td></tr>
    <tr><th>${p.ctx.t("completeness")}</th><td class=${p.row.breaches.includes("completeness") ? "bad" : ""}>${pct(f.completenessPct)}</td></tr>
    <tr><th>${p.ctx.t("outages")}</th><td>${p.row.outages.length}</td></tr>
  </table>`;
}

function Bar(p: { ctx: Ctx; label: string; segs: Segment[]; from: number; to: number; prefix: string; testid: string }) {
  const span = Math.max(1, p.to - p.from);
  return html`<div class="tl-row" data-testid=${p.testid}>
    <span class="tl-label">${p.label}</span>
    <div class="tl-bar" dir="ltr">
      ${p.segs.map((s) => {
        const name = p.prefix ? p.ctx.t(`${p.prefix}${s.state}`) : p.ctx.t(s.state);
        return html`<span class=${`tl-seg tl-${s.state}`} style=${`left:${((s.start - p.from) / span) * 100}%;width:${Math.max(0.2, ((s.end - s.start) / span) * 100)}%`}
          title=${`${name} ${fmtTime(s.start, true)} → ${fmtTime(s.end, true)}`}></span>`;
      })}
    </div>
  </div>`;
}
