import { HazriError } from "../../../protocol/errors.ts";
import { requireCenter, visibleCenters } from "../auth/plugin.ts";
import { zoneFigures } from "../live/state.ts";
import type { CenterSummary, SeatLayout } from "../live/state.ts";
import { CenterConfig } from "../registry/center-config.ts";
import type { ApiDeps } from "./api.ts";
import { CenterParams } from "./define.ts";
import { CenterConfigResponseSchema, CenterLiveSchema, CentersListSchema, NetworkLiveSchema } from "./responses.ts";
import type { Route } from "./define.ts";

const STAFF = ["pseb_admin", "center_staff"] as const;

/** A center with no live data yet: zeros, but its configured seats still count in seatsTotal. */
const emptySummary = (centerId: string, layout: SeatLayout | null): CenterSummary => ({
  centerId,
  peopleInCount: 0,
  seatsOccupied: 0,
  seatsTotal: zoneFigures(layout, []).seatsTotal,
  doorsOpen: 0,
  powerSource: null,
  edgeOnline: null,
  lastEventTs: null,
});

/** Centers: config (registry), live per center, network-wide summary. Staff see their centers only. */
export function centerRoutes(route: Route, deps: ApiDeps): void {
  /** Every center the caller may see, with its live summary (zeros when nothing arrived yet) and configured name. */
  const summaries = (visible: string[] | undefined) => {
    const live = new Map(deps.live.centers().map((c) => [c.centerId, c]));
    const ids = new Set([...live.keys(), ...deps.centerConfig.ids(), ...(deps.knownCenters?.() ?? [])]);
    const out: Array<CenterSummary & { name: string | null }> = [];
    for (const id of [...ids].sort()) {
      if (visible && !visible.includes(id)) continue;
      const config = deps.centerConfig.get(id);
      out.push({ ...(live.get(id) ?? emptySummary(id, config)), name: config?.name ?? null });
    }
    return out;
  };

  route({
    method: "GET",
    url: "/api/centers",
    summary: "Centers the caller may see, each with its live summary and configured name.",
    tag: "centers",
    access: STAFF,
    response: CentersListSchema,
    async handler({ caller }) {
      return { centers: summaries(visibleCenters(caller)) };
    },
  });

  route({
    method: "GET",
    url: "/api/live",
    summary: "Network-wide live summary (totals + per center), limited to the caller's centers.",
    tag: "centers",
    access: STAFF,
    response: NetworkLiveSchema,
    async handler({ caller }) {
      const centers = summaries(visibleCenters(caller));
      const power: Record<string, number> = {};
      for (const c of centers) if (c.powerSource) power[c.powerSource] = (power[c.powerSource] ?? 0) + 1;
      const sum = (f: (c: CenterSummary) => number) => centers.reduce((n, c) => n + f(c), 0);
      return {
        at: deps.clock.now(),
        totals: {
          centers: centers.length,
          peopleIn: sum((c) => c.peopleInCount),
          seatsOccupied: sum((c) => c.seatsOccupied),
          seatsTotal: sum((c) => c.seatsTotal),
          doorsOpen: sum((c) => c.doorsOpen),
          edgesOnline: centers.filter((c) => c.edgeOnline === true).length,
          edgesOffline: centers.filter((c) => c.edgeOnline === false).length,
          edgesNeverSeen: centers.filter((c) => c.edgeOnline === null).length,
          powerSources: power,
        },
        centers,
      };
    },
  });

  route({
    method: "GET",
    url: "/api/centers/:id",
    summary: "A center's configuration (name, capacity, zones, seats, hours).",
    tag: "centers",
    access: STAFF,
    params: CenterParams,
    response: CenterConfigResponseSchema,
    async handler({ caller, params }) {
      requireCenter(caller, params.id);
      const c = deps.centerConfig.get(params.id);
      if (!c) throw new HazriError("API_NOT_FOUND", `center ${params.id} has no configuration`);
      const { updatedAt, updatedBy, ...config } = c;
      return { centerId: params.id, config, updatedAt, updatedBy };
    },
  });

  route({
    method: "PUT",
    url: "/api/centers/:id",
    summary: "Replace a center's configuration (PSEB admin).",
    tag: "centers",
    access: ["pseb_admin"],
    params: CenterParams,
    body: CenterConfig,
    response: CenterConfigResponseSchema,
    async handler({ caller, params, body }) {
      deps.centerConfig.put(params.id, body, caller.username);
      const c = deps.centerConfig.get(params.id);
      if (!c) throw new HazriError("API_INTERNAL", "center configuration vanished after write");
      const { updatedAt, updatedBy, ...config } = c;
      return { centerId: params.id, config, updatedAt, updatedBy };
    },
  });

  route({
    method: "GET",
    url: "/api/centers/:id/live",
    summary: "Live state of one center: people in, seats and zones, doors, power, edge, last events.",
    tag: "centers",
    access: STAFF,
    params: CenterParams,
    response: CenterLiveSchema,
    async handler({ caller, params }) {
      requireCenter(caller, params.id);
      const c = deps.live.center(params.id);
      if (!c) throw new HazriError("API_NOT_FOUND", `no live data for center ${params.id}`);
      return c;
    },
  });
}
