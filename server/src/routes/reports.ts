import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Clock } from "../../../protocol/clock.ts";
import { HazriError } from "../../../protocol/errors.ts";
import { authPlugin, canSeeCenter, visibleCenters } from "../auth/plugin.ts";
import type { InfluxAdapter } from "../influx/adapter.ts";
import type { Caller, UsersRegistry } from "../registry/users.ts";
import type { SlaConfig } from "../sla/config.ts";
import type { ReportDeps } from "../sla/report.ts";
import { renderReport } from "../sla/render.ts";
import type { ReportKind } from "../sla/render.ts";
import { createRouter } from "./define.ts";
import type { DocEntry, Route } from "./define.ts";

/**
 * `GET /api/reports/sla` and `GET /api/reports/occupancy` (issue 6): the
 * monthly reports as JSON, CSV, HTML or PDF. PSEB admins see every center;
 * center staff only theirs (a league table of their own centers); members
 * nothing. Computed from InfluxDB on each request (closed days from the SLA
 * cache when the server has one, dropped by late data), so late data is included.
 */
export interface ReportRouteDeps {
  influx: Pick<InfluxAdapter, "query">;
  clock: Pick<Clock, "now">;
  sla: SlaConfig;
  chromiumPath?: string;
  /** Centers registered on the server: the league table lists the silent ones too (flagged no_data). */
  registeredCenters?: ReportDeps["registeredCenters"];
  /** Closed days' SLA facts, invalidated by the ingest (sla/cache.ts). */
  cache?: ReportDeps["cache"];
}

const CenterList = z
  .string()
  .transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "center id: 1-64 of [A-Za-z0-9_-]")).min(1).max(500));
const ReportQuery = z
  .object({
    month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "expected YYYY-MM (PKT month)"),
    /** One center id or several separated by commas; default: every center the caller may see. */
    center: CenterList.optional(),
    format: z.enum(["json", "csv", "html", "pdf"]).default("json"),
    /** SLA CSV only: the league summary or the outage list. */
    table: z.enum(["summary", "outages"]).default("summary"),
  })
  .strict();

const STAFF = ["pseb_admin", "center_staff"] as const;

/** Centers a caller's report covers: the requested ones (each must be visible), else all the caller may see. */
export function reportCenters(caller: Caller, requested: string[] | undefined): string[] | "all" {
  if (requested) {
    const denied = requested.filter((c) => !canSeeCenter(caller, c));
    if (denied.length) throw new HazriError("API_FORBIDDEN", `no access to center ${denied.join(", ")}`);
    return requested;
  }
  return visibleCenters(caller) ?? "all";
}

export function reportRoutes(route: Route, deps: ReportRouteDeps): void {
  const handler = (kind: ReportKind) =>
    async ({ caller, query, reply }: { caller: Caller; query: z.output<typeof ReportQuery>; reply: import("fastify").FastifyReply }) => {
      const centers = reportCenters(caller, query.center);
      const r = await renderReport(
        {
          influx: deps.influx,
          clock: deps.clock,
          config: deps.sla,
          ...(deps.chromiumPath ? { chromiumPath: deps.chromiumPath } : {}),
          ...(deps.registeredCenters ? { registeredCenters: deps.registeredCenters } : {}),
          ...(deps.cache ? { cache: deps.cache } : {}),
        },
        { kind, month: query.month, centers, format: query.format, table: query.table },
      );
      reply.type(r.contentType);
      if (query.format === "csv" || query.format === "pdf") reply.header("content-disposition", `attachment; filename="${r.filename}"`);
      return reply.send(r.body);
    };
  route({
    method: "GET",
    url: "/api/reports/sla",
    summary: "Monthly uptime SLA: per center, league table (target breaches flagged), outages with causes; json|csv|html|pdf",
    tag: "reports",
    access: STAFF,
    query: ReportQuery,
    handler: handler("sla"),
  });
  route({
    method: "GET",
    url: "/api/reports/occupancy",
    summary: "Monthly occupancy: utilization, curves, daily peaks, weekday×hour heatmap, zones, tailgating and ghost check-ins",
    tag: "reports",
    access: STAFF,
    query: ReportQuery,
    handler: handler("occupancy"),
  });
}

/**
 * The report routes as their own plugin, with the same auth plugin the API uses,
 * for buildApp to register next to the API (ApiDeps has no SLA config).
 */
export async function reportsPlugin(app: FastifyInstance, opts: ReportRouteDeps & { users: UsersRegistry; docs?: DocEntry[] }): Promise<void> {
  await app.register(authPlugin, { users: opts.users });
  reportRoutes(createRouter(app, opts.docs ?? []), opts);
}
