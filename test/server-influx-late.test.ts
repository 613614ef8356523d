/**
 * InfluxDB is not up when the server starts (after a power cut both restart;
 * which answers first is luck). The server must start its broker and API
 * anyway, accept batches but ack nothing, answer /healthz 503, and — once a
 * real influxd is started late on the configured port — create the database,
 * rebuild the live view from what InfluxDB already held, write the held
 * batches and ack them. Then the database is dropped under the running server
 * (InfluxDB restarted on an empty folder, say): the failed write re-creates it
 * and the edge's re-send lands, without a server restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import type { HazriEvent } from "../protocol/events.ts";
import { eventToLine } from "../protocol/influx.ts";
import { createInfluxAdapter } from "../server/src/influx/adapter.ts";
import { startServer, type RunningServer } from "../server/src/server.ts";
import { freePort, makeTempDir, removeDir, seriesRows, startInfluxd, waitFor, type InfluxInstance } from "./harness/index.ts";
import { connectFakeEdge, doorEvent, resendUntilAcked, type FakeEdge } from "./server-edge-client.ts";

const C = "late-01";
const DB = "hazri_late";
const BOOT = "boot-late-01";

const health = async (s: RunningServer) => {
  const r = await fetch(`${s.httpUrl}/healthz`);
  return { status: r.status, body: (await r.json()) as Record<string, boolean> };
};

describe("server started while InfluxDB is down", () => {
  let dataDir: string;
  let port: number;
  let influx: InfluxInstance | undefined;
  let server: RunningServer | undefined;
  let edge: FakeEdge | undefined;
  const t0 = Date.now() - 60_000;
  const earlier: HazriEvent = {
    v: 1, centerId: C, bootId: BOOT, seq: 1, ts: t0, mono: 1, synced: true,
    type: "badge", door: "main", reader: "r1", direction: "in", cardId: "0A0B0C0D01", memberId: "m-1", decision: "granted", reason: "ok", flagged: false,
  };

  beforeAll(async () => {
    // What InfluxDB holds from before the outage: one badge-in, written directly.
    dataDir = await makeTempDir("hazri-late-influx-");
    port = await freePort();
    const first = await startInfluxd({ dataDir, port });
    const a = await createInfluxAdapter({ kind: "v1", url: first.url, database: DB }, { logger: silentLogger });
    await a.ensureDatabase();
    await a.writeLines([eventToLine(earlier)]);
    await a.close();
    await first.stop();
  });
  afterAll(async () => {
    await edge?.close().catch(() => {});
    await server?.close().catch(() => {});
    await influx?.stop();
    await removeDir(dataDir);
  });

  it("broker and API up at once, 503 and no acks while down; after influxd starts: ready, rebuilt, held batch written and acked", async () => {
    server = await startServer(
      {
        http: { host: "127.0.0.1", port: 0 },
        broker: { embedded: { host: "127.0.0.1", port: 0 } },
        influx: { kind: "v1", url: `http://127.0.0.1:${port}`, database: DB, timeoutMs: 2_000 },
        ingest: { maxBatchDelayMs: 5 },
      },
      { logger: silentLogger, clock: systemClock },
    );
    const s = server;
    expect(await health(s)).toEqual({ status: 503, body: { ok: false, influx: false, database: false, mqtt: true } });

    edge = await connectFakeEdge({ url: s.brokerUrl, centerId: C, bootId: BOOT });
    const held = [2, 3, 4].map((seq) => doorEvent(C, seq, t0 + seq * 1000, BOOT));
    await edge.send(held);
    // Accepted and held in memory (bounded queue), not written: nothing can have been acked.
    await waitFor(() => s.metrics.pendingEvents === held.length || null, { timeoutMs: 10_000, what: "batch held by the server" });
    expect(edge.acked.size).toBe(0);
    expect(s.metrics.writeBatches + s.metrics.writeFailures).toBe(0);
    expect(s.metrics.acksPublished).toBe(0);

    influx = await startInfluxd({ dataDir, port });
    await waitFor(async () => (await health(s)).status === 200 || null, { timeoutMs: 30_000, what: "/healthz 200 after influxd started" });
    expect((await health(s)).body).toEqual({ ok: true, influx: true, database: true, mqtt: true });
    const e = edge;
    await waitFor(() => e.acked.size === held.length || null, { timeoutMs: 20_000, what: "held batch acked" });
    const rows = seriesRows(await influx.query(`SELECT "seq" FROM "door" WHERE "center" = '${C}'`, DB));
    expect(rows.map((r) => r.seq)).toEqual([2, 3, 4]);
    // The live view was rebuilt from the points of before the outage (m-1 is in) and holds the new batch.
    await waitFor(
      async () => {
        const r = await fetch(`${s.httpUrl}/api/centers/${C}/live`);
        if (!r.ok) return null;
        const live = (await r.json()) as { peopleIn: { memberId: string }[]; lastEvents: unknown[] };
        return live.peopleIn.some((p) => p.memberId === "m-1") && live.lastEvents.length === 4 ? true : null;
      },
      { timeoutMs: 10_000, what: "rebuilt + new events in the live view" },
    );
  });

  it("database dropped under the running server: the failed write re-creates it; the edge's re-send is stored and acked", async () => {
    if (!server || !edge || !influx) throw new Error("previous case did not run");
    const s = server;
    await influx.query(`DROP DATABASE "${DB}"`);
    const more = [5, 6].map((seq) => doorEvent(C, seq, t0 + seq * 1000, BOOT));
    const failuresBefore = s.metrics.writeFailures;
    // The edge re-sends until acked (its outbox rule): the first write meets "database not found".
    const r = resendUntilAcked(edge, more, { intervalMs: 500 });
    const e = edge;
    try {
      await waitFor(() => more.every((m) => e.acked.has(m.seq)) || null, { timeoutMs: 30_000, what: "re-sent batch acked" });
    } finally {
      r.stop();
    }
    expect(s.metrics.writeFailures).toBeGreaterThan(failuresBefore);
    const rows = seriesRows(await influx.query(`SELECT "seq" FROM "door" WHERE "center" = '${C}'`, DB));
    expect(rows.map((x) => x.seq)).toEqual([5, 6]);
    expect((await health(s)).status).toBe(200);
  });
});
