import { useEffect, useMemo, useState } from "preact/hooks";
import type { ApiError } from "../api.ts";
import { useLiveStream, useLoad } from "../hooks.ts";
import { filterRows, networkRows, pktMonth, sortRows, type CenterSummary, type NetworkFilter, type NetworkRow, type SlaReport, type SortKey } from "../model.ts";
import { ErrorState, html, StateBox, StreamBadge, type Ctx } from "../ui.ts";

interface LiveNetwork {
  totals: { centers: number; peopleIn: number; seatsOccupied: number; seatsTotal: number; edgesOnline: number; edgesOffline: number; edgesNeverSeen: number };
  centers: CenterSummary[];
}

/** Every center for PSEB: online, power now, occupancy now, SLA month to date vs target; sortable, filterable. */
export function NetworkPage(p: { ctx: Ctx }) {
  const { ctx } = p;
  const net = useLoad(() => ctx.api.get<LiveNetwork>("/api/live"), "network");
  const sla = useLoad<SlaReport | "unavailable">(async () => {
    try {
      return await ctx.api.get<SlaReport>(`/api/reports/sla?month=${pktMonth(Date.now())}`);
    } catch (e) {
      if ((e as ApiError).kind === "no_route" || (e as ApiError).kind === "not_found") return "unavailable";
      throw e;
    }
  }, "sla");
  // The network view refreshes at most every 2 s however many centers are talking; the SLA figures
  // (computed from InfluxDB by the report service) every 5 minutes.
  const stream = useLiveStream(ctx, { onChange: net.reload, debounceMs: 2000 });
  useEffect(() => {
    const t = setInterval(() => sla.reload(), 5 * 60_000);
    return () => clearInterval(t);
  }, []);
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: "center", dir: 1 });
  const [text, setText] = useState("");
  const [filter, setFilter] = useState<NetworkFilter>("all");

  const report = sla.data && sla.data !== "unavailable" ? sla.data : null;
  const rows = useMemo(() => networkRows(net.data?.centers ?? [], report), [net.data, report]);
  const shown = useMemo(() => sortRows(filterRows(rows, text, filter), sort.key, sort.dir), [rows, text, filter, sort]);

  if (net.loading && !net.data) return html`<${StateBox} kind="info" testid="state-loading">${ctx.t("loading")}<//>`;
  if (net.error && !net.data) return html`<${ErrorState} ctx=${ctx} error=${net.error} retry=${net.reload} />`;
  const tot = net.data?.totals;

  const th = (key: SortKey, label: string) =>
    html`<th aria-sort=${sort.key === key ? (sort.dir === 1 ? "ascending" : "descending") : "none"}>
      <button class="th" data-testid=${`sort-${key}`} onClick=${() => setSort((s) => ({ key, dir: s.key === key ? ((-s.dir) as 1 | -1) : 1 }))}>
        ${label}${sort.key === key ? (sort.dir === 1 ? " ▲" : " ▼") : ""}</button></th>`;

  return html`<section class="network" data-testid="network">
    <header class="page-head">
      <h1>${ctx.t("network")}</h1>
      <div class="head-tools"><${StreamBadge} ctx=${ctx} status=${stream} /></div>
    </header>
    ${stream === "reconnecting" ? html`<${StateBox} kind="warn" testid="state-reconnecting">${ctx.t("reconnecting")}<//>` : null}
    <div class="kpis">
      <div class="kpi"><span class="kpi-label">${ctx.t("centers")}</span><span class="kpi-value">${tot?.centers ?? 0}</span></div>
      <div class="kpi"><span class="kpi-label">${ctx.t("edgesOnline")}</span><span class="kpi-value">${tot?.edgesOnline ?? 0} / ${tot?.centers ?? 0}</span></div>
      <div class="kpi"><span class="kpi-label">${ctx.t("peopleIn")}</span><span class="kpi-value" data-testid="total-people">${tot?.peopleIn ?? 0}</span></div>
      <div class="kpi"><span class="kpi-label">${ctx.t("seats")}</span><span class="kpi-value">${tot?.seatsOccupied ?? 0} / ${tot?.seatsTotal ?? 0}</span></div>
    </div>
    ${sla.data === "unavailable" ? html`<${StateBox} kind="info" testid="state-sla-unavailable">${ctx.t("slaMtd")}: ${ctx.t("notAvailable")}<//>` : null}
    <div class="filters">
      <input type="search" placeholder=${ctx.t("filter")} value=${text} data-testid="filter-text" onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} />
      <select value=${filter} data-testid="filter-kind" onChange=${(e: Event) => setFilter((e.target as HTMLSelectElement).value as NetworkFilter)}>
        <option value="all">${ctx.t("all")}</option>
        <option value="offline">${ctx.t("onlyOffline")}</option>
        <option value="battery">${ctx.t("onlyBattery")}</option>
        <option value="breach">${ctx.t("onlyBreach")}</option>
      </select>
      <span class="muted" data-testid="row-count">${ctx.t("rows", { n: shown.length, m: rows.length })}</span>
    </div>
    <div class="table-wrap">
      <table class="centers" data-testid="centers-table">
        <thead><tr>
          ${th("center", ctx.t("center"))}${th("online", ctx.t("uplink"))}${th("power", ctx.t("power"))}
          ${th("people", ctx.t("peopleIn"))}${th("seats", ctx.t("seats"))}${th("sla", ctx.t("slaMtd"))}
        </tr></thead>
        <tbody>
          ${shown.map(
            (r) => html`<tr class=${rowClass(r)} data-testid="center-row" data-center=${r.centerId} data-alerts=${r.alerts.join(" ")}>
              <td><a href=${`#/center/${encodeURIComponent(r.centerId)}`}>${r.name ?? r.centerId}</a> <small class="muted">${r.name ? r.centerId : ""}</small></td>
              <td class=${r.edgeOnline === false ? "bad" : r.edgeOnline === null ? "warn" : ""} data-testid="uplink-cell">${r.edgeOnline === null ? ctx.t("neverSeen") : r.edgeOnline ? ctx.t("online") : ctx.t("offline")}</td>
              <td class=${r.alerts.includes("power") ? "bad" : ""}>${r.powerSource ? ctx.t(`src_${r.powerSource}`) : "—"}</td>
              <td>${r.peopleInCount}</td>
              <td>${r.seatsOccupied} / ${r.seatsTotal}</td>
              <${SlaCell} ctx=${ctx} row=${r} loading=${sla.loading && !sla.data} />
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}

const rowClass = (r: NetworkRow): string =>
  r.alerts.some((a) => a !== "never_seen") ? "row-alert" : r.alerts.includes("never_seen") ? "row-never" : "";

/**
 * Serviceable availability month to date against the target, and the data completeness beside it:
 * a center can be flagged for too little evidence while every hour it did report was up.
 */
function SlaCell(p: { ctx: Ctx; row: NetworkRow; loading: boolean }) {
  const r = p.row;
  const why = r.slaBreaches.map((b) => p.ctx.t(`breach_${b}`)).join(", ");
  return html`<td data-testid="sla-cell" data-sla=${r.slaPct === null ? "" : r.slaPct.toFixed(2)} data-breaches=${r.slaBreaches.join(" ")} title=${why}>
    ${p.loading ? html`<span class="muted">…</span>` : null}
    <span class=${r.slaBreaches.includes("availability") ? "bad" : ""}>${r.slaPct === null ? "—" : `${r.slaPct.toFixed(2)}%`}</span>
    ${r.slaTarget !== null ? html` <small class="muted">/ ${r.slaTarget}%</small>` : null}
    ${r.slaCompletenessPct !== null
      ? html` <small class=${r.slaBreaches.includes("completeness") ? "bad" : "muted"} data-testid="sla-data">· ${p.ctx.t("slaData", { p: r.slaCompletenessPct.toFixed(1) })}</small>`
      : null}
  </td>`;
}
