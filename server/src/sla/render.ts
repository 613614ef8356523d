import { HazriError } from "../../../protocol/errors.ts";
import { renderSlaHtml } from "./html.ts";
import { buildOccupancyReport, occupancyCsv, renderOccupancyHtml } from "./occupancy-report.ts";
import { htmlToPdf } from "./pdf.ts";
import { buildSlaReport, slaOutagesCsv, slaSummaryCsv } from "./report.ts";
import type { ReportDeps } from "./report.ts";

/** One entry point for the CLI and the API: build a report and serialize it. */
export type ReportFormat = "json" | "csv" | "html" | "pdf";
export type ReportKind = "sla" | "occupancy";

export interface RenderRequest {
  kind: ReportKind;
  month: string;
  centers: readonly string[] | "all";
  format: ReportFormat;
  /** CSV of the SLA: the league summary or the outage list. */
  table?: "summary" | "outages";
}

export interface Rendered {
  body: string | Buffer;
  contentType: string;
  filename: string;
}

export async function renderReport(deps: ReportDeps & { chromiumPath?: string }, q: RenderRequest): Promise<Rendered> {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(q.month)) throw new HazriError("API_BAD_REQUEST", `month must be YYYY-MM, got ${JSON.stringify(q.month)}`);
  const base = `hazri-${q.kind}-${q.month}${q.centers !== "all" && q.centers.length === 1 ? `-${q.centers[0]}` : ""}`;
  const pdf = async (html: string): Promise<Rendered> => ({
    body: await htmlToPdf(html, deps.chromiumPath ? { chromiumPath: deps.chromiumPath } : {}),
    contentType: "application/pdf",
    filename: `${base}.pdf`,
  });
  if (q.kind === "sla") {
    const r = await buildSlaReport(deps, q);
    switch (q.format) {
      case "json":
        return { body: `${JSON.stringify(r, null, 2)}\n`, contentType: "application/json; charset=utf-8", filename: `${base}.json` };
      case "csv":
        return {
          body: q.table === "outages" ? slaOutagesCsv(r) : slaSummaryCsv(r),
          contentType: "text/csv; charset=utf-8",
          filename: `${base}${q.table === "outages" ? "-outages" : ""}.csv`,
        };
      case "html":
        return { body: renderSlaHtml(r), contentType: "text/html; charset=utf-8", filename: `${base}.html` };
      case "pdf":
        return pdf(renderSlaHtml(r));
    }
  }
  const r = await buildOccupancyReport(deps, q);
  switch (q.format) {
    case "json":
      return { body: `${JSON.stringify(r, null, 2)}\n`, contentType: "application/json; charset=utf-8", filename: `${base}.json` };
    case "csv":
      return { body: occupancyCsv(r), contentType: "text/csv; charset=utf-8", filename: `${base}.csv` };
    case "html":
      return { body: renderOccupancyHtml(r), contentType: "text/html; charset=utf-8", filename: `${base}.html` };
    case "pdf":
      return pdf(renderOccupancyHtml(r));
  }
}
