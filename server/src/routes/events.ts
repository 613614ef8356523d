import { z } from "zod";
import { HazriError } from "../../../protocol/errors.ts";
import { requireCenter } from "../auth/plugin.ts";
import type { ApiDeps } from "./api.ts";
import { CenterParams } from "./define.ts";
import { EventsPageSchema } from "./responses.ts";
import type { Route } from "./define.ts";
import { buildEventsQuery, EVENT_TYPES, pairVisits, pktMonthOf, pktMonthRange, seriesToRows } from "./influxql.ts";

const STAFF = ["pseb_admin", "center_staff"] as const;
const DEFAULT_WINDOW_MS = 30 * 86_400_000;
const MAX_VISIT_BADGES = 10_000;

/** Epoch milliseconds, or an ISO 8601 date/time string. */
const TimeParam = z.union([
  z.string().regex(/^\d{1,15}$/).transform(Number),
  z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), "expected epoch ms or an ISO 8601 time")
    .transform((s) => Date.parse(s)),
]);
const Page = {
  from: TimeParam.optional(),
  to: TimeParam.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** `nextCursor` of the previous page. */
  cursor: z.string().regex(/^\d{1,20}$/, "cursor: the nextCursor of a previous page").optional(),
};
const EventsQuery = z
  .object({
    ...Page,
    /** One type or several separated by commas; default all. */
    type: z
      .string()
      .transform((s) => s.split(",").map((x) => x.trim()))
      .pipe(z.array(z.enum(EVENT_TYPES as [string, ...string[]])).min(1))
      .optional(),
  })
  .strict();
const AccessLogQuery = z
  .object({
    ...Page,
    decision: z.enum(["granted", "denied"]).optional(),
    member: z.string().min(1).max(64).optional(),
    card: z.string().regex(/^[0-9A-Fa-f]{2,32}$/).transform((s) => s.toUpperCase()).optional(),
    door: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/).optional(),
  })
  .strict();
const MonthQuery = z.object({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "expected YYYY-MM").optional() }).strict();

/** Events and access log (InfluxQL over the adapter, time-cursor pagination) and a member's own visits. */
export function eventRoutes(route: Route, deps: ApiDeps): void {
  const window = (q: { from?: number | undefined; to?: number | undefined; cursor?: string | undefined }) => {
    const toMs = q.to ?? deps.clock.now() + 60_000;
    const fromMs = q.from ?? toMs - DEFAULT_WINDOW_MS;
    if (fromMs > toMs) throw new HazriError("API_BAD_REQUEST", "from must not be after to", [{ in: "query", path: "from", message: "after to" }]);
    let beforeNs = BigInt(toMs) * 1_000_000n;
    if (q.cursor !== undefined && BigInt(q.cursor) < beforeNs) beforeNs = BigInt(q.cursor);
    return { fromNs: BigInt(fromMs) * 1_000_000n, beforeNs };
  };
  const page = <T extends { cursor: string }>(items: T[], limit: number) => ({
    items,
    nextCursor: items.length === limit ? (items[items.length - 1]?.cursor ?? null) : null,
  });

  route({
    method: "GET",
    url: "/api/centers/:id/events",
    summary: "A center's events, newest first. Page with `nextCursor` → `cursor`. Default window: the last 30 days.",
    tag: "events",
    access: STAFF,
    params: CenterParams,
    query: EventsQuery,
    response: EventsPageSchema,
    async handler({ caller, params, query }) {
      requireCenter(caller, params.id);
      const types = (query.type ?? EVENT_TYPES) as typeof EVENT_TYPES;
      const q = buildEventsQuery({ types, centerId: params.id, ...window(query), limit: query.limit });
      return page(seriesToRows(await deps.influx.query(q), query.limit), query.limit);
    },
  });

  route({
    method: "GET",
    url: "/api/centers/:id/access-log",
    summary: "A center's badge decisions, newest first, filterable by decision, member, card, door.",
    tag: "events",
    access: STAFF,
    params: CenterParams,
    query: AccessLogQuery,
    response: EventsPageSchema,
    async handler({ caller, params, query }) {
      requireCenter(caller, params.id);
      const where: Record<string, string> = {};
      if (query.decision) where.decision = query.decision;
      if (query.member) where.member = query.member;
      if (query.card) where.card = query.card;
      if (query.door) where.door = query.door;
      const q = buildEventsQuery({ types: ["badge"], centerId: params.id, ...window(query), limit: query.limit, where });
      return page(seriesToRows(await deps.influx.query(q), query.limit), query.limit);
    },
  });

  route({
    method: "GET",
    url: "/api/me/checkins",
    summary: "The calling member's granted check-ins and hours in a month (PKT; default the current month).",
    tag: "members",
    access: ["member"],
    query: MonthQuery,
    async handler({ caller, query }) {
      if (caller.memberId === null) throw new HazriError("API_FORBIDDEN", "this user is not linked to a member");
      const month = query.month ?? pktMonthOf(deps.clock.now());
      const { fromMs, toMs } = pktMonthRange(month);
      const q = buildEventsQuery({
        types: ["badge"],
        fromNs: BigInt(fromMs) * 1_000_000n,
        beforeNs: BigInt(toMs) * 1_000_000n,
        limit: MAX_VISIT_BADGES,
        where: { member: caller.memberId, decision: "granted" },
        order: "asc",
      });
      const rows = seriesToRows(await deps.influx.query(q), MAX_VISIT_BADGES, "asc");
      const { visits, hours } = pairVisits(rows.map((r) => ({ centerId: r.centerId, ts: r.ts, direction: String(r.direction) })));
      return { memberId: caller.memberId, month, visits, hours, truncated: rows.length === MAX_VISIT_BADGES };
    },
  });
}
