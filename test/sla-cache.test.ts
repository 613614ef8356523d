/**
 * The SLA cache of closed days (server/src/sla/cache.ts) on real InfluxDB
 * 1.6.7, fed through the server's real ingest (whose `onStored` hook is how the
 * server wires it): a cached month-to-date league table equals the uncached
 * one, a warm build reads no closed day from InfluxDB, and late data that lands
 * through the ingest for one center and one closed day makes the next build
 * read exactly that center-day again and show the new outage.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../protocol/clock.ts";
import type { HazriEvent } from "../protocol/events.ts";
import { createInfluxAdapter, type InfluxAdapter } from "../server/src/influx/adapter.ts";
import { createSlaCache, type SlaCache } from "../server/src/sla/cache.ts";
import { monthPeriod, pktToUtc } from "../server/src/sla/calendar.ts";
import { parseSlaConfig } from "../server/src/sla/config.ts";
import { buildSlaReport, type SlaReport } from "../server/src/sla/report.ts";
import { startInfluxd, waitFor, type InfluxInstance } from "./harness/index.ts";
import { scriptedIngest, type ScriptedIngest } from "./sla-ingest.ts";
import { edgeEvents, type TrueCenter } from "./sla-scenario.ts";

const MONTH = "2026-03";
const P = monthPeriod(MONTH);
const H = 3_600_000;
const HB = 300_000; // sparse heartbeats keep the load short; the SLA config says so
const T = pktToUtc;
const config = parseSlaConfig({ heartbeatS: 300, centers: { c1: {}, c2: {}, c3: {} } });
const NOW = P.end + 86_400_000;
/** Queries of every build besides closed days: 4 for the state before the month + 1 per power device name, 2 × 4 at its edges, 1 for later boots. */
const FIXED = 4 + 1 + 8 + 1;

let influx: InfluxInstance;
let adapter: InfluxAdapter;
let cache: SlaCache;
let ingest: ScriptedIngest;
const queries: string[] = [];
const counting = { query: (q: string) => (queries.push(q), adapter.query(q)) };

const center = (id: string, k: number): TrueCenter => ({
  centerId: id,
  from: P.start - H,
  to: P.end + H,
  heartbeatMs: HB,
  phaseMs: 11_000 * k,
  power: [
    { t: P.start - H, state: "mains" },
    { t: T("2026-03-04T11:00:00") + k * 60_000, state: "battery" },
    { t: T("2026-03-04T11:30:00") + k * 60_000, state: "down" },
    { t: T("2026-03-04T11:50:00") + k * 60_000, state: "mains" },
  ],
  wan: [
    { t: T("2026-03-20T10:00:00"), state: "down" },
    { t: T("2026-03-20T10:00:00") + (k + 1) * 600_000, state: "up" },
  ],
  edgeOff: k === 2 ? [{ start: T("2026-03-12T15:00:00"), end: T("2026-03-12T16:10:00") }] : [],
});

/** Events through the server's ingest (zod, write, ack); every seq acked. */
const viaIngest = (events: readonly HazriEvent[]) => ingest.send(events);

const build = (withCache: boolean) =>
  buildSlaReport({ influx: counting, clock: { now: () => NOW }, config, ...(withCache ? { cache } : {}) }, { month: MONTH, centers: "all" });
/** A report without its generation time (everything else must be equal). */
const figures = (r: SlaReport) => r.centers.map(({ centerId, all, excluding, outages, breaches, rank }) => ({ centerId, all, excluding, outages, breaches, rank }));

beforeAll(async () => {
  influx = await startInfluxd();
  adapter = await createInfluxAdapter({ kind: "v1", url: influx.url, database: "hazri" }, { logger: silentLogger });
  await adapter.ensureDatabase();
  cache = createSlaCache();
  ingest = scriptedIngest(adapter, { onStored: (events) => cache.onStored(events) });
  await viaIngest(["c1", "c2", "c3"].flatMap((id, k) => edgeEvents(center(id, k))));
  await waitFor(async () => (await adapter.query(`SELECT count("seq") FROM "edge_heartbeat" WHERE time > 0`))[0]?.values[0]?.[1] !== undefined, {
    timeoutMs: 30_000,
    what: "heartbeats queryable",
  });
}, 300_000);

afterAll(async () => {
  await ingest?.close();
  await adapter?.close();
  await influx?.stop();
});

describe("SLA cache of closed days on InfluxDB 1.6.7, invalidated by the ingest", () => {
  let base: SlaReport;
  it("cold and warm cached builds equal the uncached one; the warm one reads no closed day", async () => {
    base = await build(false);
    expect(base.centers.map((c) => c.centerId).sort()).toEqual(["c1", "c2", "c3"]);
    const t0 = performance.now();
    queries.length = 0;
    expect(figures(await build(true))).toEqual(figures(base));
    const cold = { ms: performance.now() - t0, queries: queries.length };
    queries.length = 0;
    const t1 = performance.now();
    expect(figures(await build(true))).toEqual(figures(base));
    const warm = { ms: performance.now() - t1, queries: [...queries] };
    console.log(`sla-cache: cold build ${cold.ms.toFixed(0)} ms (${cold.queries} queries), warm ${warm.ms.toFixed(0)} ms (${warm.queries.length} queries)`);
    // Warm: the state before the month (power, last powered, uplink, last boot; one LAST per power device
    // name: "ups"), evidence just before and after it (2 × 4) and later boots (1).
    expect(warm.queries).toHaveLength(FIXED);
    expect(warm.queries.filter((q) => q.includes("ELAPSED"))).toHaveLength(2);
    expect(cold.queries).toBe(FIXED + 31 * 6);
    expect(cache.stats()).toMatchObject({ days: 31, invalidations: 0 });
  });

  it("late data through the ingest for c2 on a closed day: only that center-day is read again; the new outage is in the report", async () => {
    // c2's edge was offline from the broker on 8 March 14:00–14:40 PKT; its ledger arrives now.
    const t = T("2026-03-08T14:00:00");
    const late = [
      { state: "down", cause: "close", lastContactTs: t, ts: t + 45_000 },
      { state: "up", cause: "connack", ts: t + 40 * 60_000 },
    ].map((u, i) => ({ v: 1, centerId: "c2", bootId: "late-boot", seq: 900_000 + i, mono: 1000 + i, synced: true, type: "uplink", ...u }) as HazriEvent);
    await viaIngest(late);
    expect(cache.stats().invalidations).toBe(1);
    queries.length = 0;
    const after = await build(true);
    const reread = [...queries];
    // The fixed queries + one day (6 queries), every one of those for c2 alone and inside 8 March.
    const dayQueries = reread.filter((q) => q.includes(`time >= '${new Date(T("2026-03-08")).toISOString()}' AND time < '${new Date(T("2026-03-09")).toISOString()}'`));
    expect(reread).toHaveLength(FIXED + 6);
    expect(dayQueries).toHaveLength(6);
    for (const q of dayQueries) expect(q).toContain(`"center" = 'c2'`);
    const c2 = after.centers.find((c) => c.centerId === "c2")!;
    const o = c2.outages.find((x) => x.start === t);
    expect(o).toMatchObject({ cause: "internet", end: t + 40 * 60_000, counted: "down" });
    expect(figures(after)).toEqual(figures(await build(false)));
    expect(figures(after)).not.toEqual(figures(base));
  });

  it("a center never seen before reports late for a closed day: it joins the cached league table", async () => {
    const c4 = edgeEvents({ ...center("c4", 3), from: T("2026-03-15T09:00"), to: T("2026-03-15T21:00"), power: [{ t: T("2026-03-15T09:00"), state: "mains" }], wan: [] });
    await viaIngest(c4);
    const r = await build(true);
    expect(r.centers.map((c) => c.centerId)).toContain("c4");
    expect(figures(r)).toEqual(figures(await build(false)));
  });
});
