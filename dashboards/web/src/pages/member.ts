import { useState } from "preact/hooks";
import { useLoad } from "../hooks.ts";
import { fmtTime, pktMonth } from "../model.ts";
import { ErrorState, html, StateBox, type Ctx } from "../ui.ts";

interface Checkins {
  memberId: string;
  month: string;
  visits: { centerId: string; in: number; out: number | null; hours: number }[];
  hours: number;
  truncated: boolean;
}

/** A member's own check-ins and hours this month (GET /api/me/checkins): nothing of anyone else. */
export function MemberPage(p: { ctx: Ctx }) {
  const { ctx } = p;
  const [month, setMonth] = useState(pktMonth(Date.now()));
  const data = useLoad(() => ctx.api.get<Checkins>(`/api/me/checkins?month=${month}`), month);
  if (data.loading && !data.data) return html`<${StateBox} kind="info" testid="state-loading">${ctx.t("loading")}<//>`;
  if (data.error && !data.data) return html`<${ErrorState} ctx=${ctx} error=${data.error} retry=${data.reload} />`;
  const d = data.data;
  return html`<section class="member" data-testid="member">
    <header class="page-head">
      <h1>${ctx.t("me")} <small>${d?.memberId ?? ""}</small></h1>
      <div class="head-tools"><label>${ctx.t("month")} <input type="month" value=${month} onChange=${(e: Event) => setMonth((e.target as HTMLInputElement).value || month)} /></label></div>
    </header>
    <div class="kpis">
      <div class="kpi" data-testid="kpi-hours"><span class="kpi-label">${ctx.t("hoursThisMonth")}</span><span class="kpi-value">${d?.hours ?? 0}</span></div>
      <div class="kpi" data-testid="kpi-visits"><span class="kpi-label">${ctx.t("visits")}</span><span class="kpi-value">${d?.visits.length ?? 0}</span></div>
    </div>
    <div class="card">
      ${d && d.visits.length > 0
        ? html`<table data-testid="visits"><thead><tr><th>${ctx.t("center")}</th><th>${ctx.t("checkIn")}</th><th>${ctx.t("checkOut")}</th><th>h</th></tr></thead>
          <tbody>${[...d.visits].reverse().map((v) => html`<tr data-testid="visit"><td>${v.centerId}</td><td>${fmtTime(v.in, true)}</td><td>${v.out === null ? ctx.t("stillIn") : fmtTime(v.out, true)}</td><td>${v.hours}</td></tr>`)}</tbody></table>`
        : html`<p class="muted" data-testid="no-visits">${ctx.t("noEvents")}</p>`}
    </div>
  </section>`;
}
