/**
 * A configured InfluxDB 1.x retention policy (influx.retentionPolicy): writes go
 * to db/rp, and every reader (live rebuild, API, SLA, Grafana) uses bare
 * measurement names, which InfluxQL resolves to the database's DEFAULT RP. So
 * the server makes the configured RP the default — created with DEFAULT, or
 * ALTERed to DEFAULT when an older setup created it without. Checked through
 * the live rebuild after a restart, on real influxd 1.6.7.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import type { HazriEvent } from "../protocol/events.ts";
import { eventToLine } from "../protocol/influx.ts";
import { createInfluxAdapter } from "../server/src/influx/adapter.ts";
import { startServer, type RunningServer } from "../server/src/server.ts";
import type { ServerConfigInput } from "../server/src/config.ts";
import { seriesRows, startInfluxd, waitFor, type InfluxInstance } from "./harness/index.ts";
import { connectFakeEdge, type FakeEdge } from "./server-edge-client.ts";

const C = "rp-01";
const BOOT = "boot-rp-0001";

/** Recent events (after the daily 04:00 PKT check-out, which is at most 24 h ago). */
function events(t0: number): HazriEvent[] {
  const b = { v: 1, centerId: C, bootId: BOOT, mono: 1, synced: true } as const;
  return [
    { ...b, seq: 1, ts: t0, type: "badge", door: "main", reader: "r1", direction: "in", cardId: "0A0B0C0D01", memberId: "m-1", decision: "granted", reason: "ok", flagged: false },
    { ...b, seq: 2, ts: t0 + 1000, type: "seat", seat: "s-01", zone: "z1", state: "occupied", source: "mqtt" },
    { ...b, seq: 3, ts: t0 + 2000, type: "door", door: "main", state: "opened" },
  ];
}

interface RpRow {
  name: string;
  default: boolean;
}
async function rps(influx: InfluxInstance, db: string): Promise<RpRow[]> {
  return seriesRows(await influx.query(`SHOW RETENTION POLICIES ON "${db}"`)) as unknown as RpRow[];
}

describe("retentionPolicy configured: reads see what the server writes", () => {
  let influx: InfluxInstance;
  let server: RunningServer | undefined;
  let edge: FakeEdge | undefined;

  beforeAll(async () => {
    influx = await startInfluxd();
  });
  afterAll(async () => {
    await edge?.close().catch(() => {});
    await server?.close().catch(() => {});
    await influx?.stop();
  });

  const cfg = (database: string): ServerConfigInput => ({
    http: { host: "127.0.0.1", port: 0 },
    broker: { embedded: { host: "127.0.0.1", port: 0 } },
    influx: { kind: "v1", url: influx.url, database, retentionPolicy: "raw" },
    ingest: { maxBatchDelayMs: 5 },
  });
  const live = async (s: RunningServer) => {
    const r = await fetch(`${s.httpUrl}/api/centers/${C}/live`);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  it("fresh database: the RP is created as DEFAULT; after a restart the live rebuild reads the events back", async () => {
    const evs = events(Date.now() - 30_000);
    server = await startServer(cfg("hz_rp_new"), { logger: silentLogger, clock: systemClock });
    expect(await rps(influx, "hz_rp_new")).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "raw", default: true }), expect.objectContaining({ name: "autogen", default: false })]),
    );
    edge = await connectFakeEdge({ url: server.brokerUrl, centerId: C, bootId: BOOT });
    await edge.send(evs);
    await waitFor(() => edge?.acked.size === evs.length || null, { timeoutMs: 20_000, what: "all acked" });
    const before = await live(server);
    expect(before.body).toMatchObject({ peopleInCount: 1, seatsOccupied: 1, doors: { main: { state: "opened" } } });
    // The points are in "raw", not in autogen.
    expect(seriesRows(await influx.query('SELECT count("seq") FROM "raw"."access"', "hz_rp_new"))[0]).toMatchObject({ count: 1 });
    expect(seriesRows(await influx.query('SELECT count("seq") FROM "autogen"."access"', "hz_rp_new"))).toEqual([]);
    await edge.close();
    edge = undefined;
    await server.close();

    server = await startServer(cfg("hz_rp_new"), { logger: silentLogger, clock: systemClock });
    const after = await live(server);
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
    await server.close();
    server = undefined;
  });

  it("an existing non-default RP (older setup) is ALTERed to DEFAULT; its points are read back by the rebuild", async () => {
    const db = "hz_rp_old";
    await influx.createDatabase(db);
    await influx.query(`CREATE RETENTION POLICY "raw" ON "${db}" DURATION INF REPLICATION 1`);
    expect(await rps(influx, db)).toEqual(expect.arrayContaining([expect.objectContaining({ name: "raw", default: false })]));
    // What the server wrote before this fix: points in db/raw while reads went to autogen.
    const writer = await createInfluxAdapter({ kind: "v1", url: influx.url, database: db, retentionPolicy: "raw" }, { logger: silentLogger });
    await writer.writeLines(events(Date.now() - 30_000).map(eventToLine));
    await writer.close();

    server = await startServer(cfg(db), { logger: silentLogger, clock: systemClock });
    expect(await rps(influx, db)).toEqual(expect.arrayContaining([expect.objectContaining({ name: "raw", default: true })]));
    const l = await live(server);
    expect(l.status).toBe(200);
    expect(l.body).toMatchObject({ peopleInCount: 1, peopleIn: [{ memberId: "m-1" }], seatsOccupied: 1, doors: { main: { state: "opened" } } });
    expect((l.body.lastEvents as unknown[]).length).toBe(3);
    await server.close();
    server = undefined;
  });
});
