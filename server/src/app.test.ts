import { afterEach, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { silentLogger } from "../../protocol/clock.ts";
import { buildApp } from "./app.ts";
import { createLiveState } from "./live/state.ts";
import { countRejected, createMetrics, observeWriteLatency } from "./metrics.ts";

describe("buildApp", () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => app?.close());

  async function make(pingOk = true, dbReady = true) {
    const live = createLiveState();
    const metrics = createMetrics();
    app = await buildApp({ live, influx: { ping: async () => pingOk }, logger: silentLogger, metrics, mqttConnected: () => true, databaseReady: () => dbReady });
    return { app, live, metrics };
  }

  it("GET /healthz: 200 when InfluxDB answers, the database exists and MQTT is connected; 503 naming what is not", async () => {
    const up = await (await make()).app.inject({ method: "GET", url: "/healthz" });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ ok: true, influx: true, database: true, mqtt: true });
    await app?.close();
    const down = await (await make(false, false)).app.inject({ method: "GET", url: "/healthz" });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ ok: false, influx: false, database: false, mqtt: true });
    await app?.close();
    const noDb = await (await make(true, false)).app.inject({ method: "GET", url: "/healthz" });
    expect(noDb.statusCode).toBe(503);
    expect(noDb.json()).toEqual({ ok: false, influx: true, database: false, mqtt: true });
  });

  it("GET /api/centers and /api/centers/:id/live", async () => {
    const { app, live } = await make();
    live.apply({ v: 1, centerId: "isb-01", bootId: "boot-0001", seq: 1, ts: 10, mono: 0, synced: true, type: "seat", seat: "s1", zone: "z", state: "occupied", source: "mqtt" });
    const list = await app.inject({ method: "GET", url: "/api/centers" });
    expect(list.json().centers).toEqual([expect.objectContaining({ centerId: "isb-01", seatsOccupied: 1 })]);
    const one = await app.inject({ method: "GET", url: "/api/centers/isb-01/live" });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ centerId: "isb-01", seatsOccupied: 1, seats: { s1: { state: "occupied" } } });
  });

  it("unknown center → 404 API_NOT_FOUND; bad id → 400 API_BAD_REQUEST", async () => {
    const { app } = await make();
    const nf = await app.inject({ method: "GET", url: "/api/centers/nowhere/live" });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().error.code).toBe("API_NOT_FOUND");
    const bad = await app.inject({ method: "GET", url: `/api/centers/${encodeURIComponent("a b,c")}/live` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: { code: "API_BAD_REQUEST", message: expect.stringContaining("center id") } });
    const none = await app.inject({ method: "GET", url: "/nope" });
    expect(none.statusCode).toBe(404);
  });

  it("GET /metrics is Prometheus text", async () => {
    const { app, metrics } = await make();
    metrics.eventsIngested = 7;
    countRejected(metrics, "MQTT_PAYLOAD_JSON", 2);
    observeWriteLatency(metrics, 3);
    const r = await app.inject({ method: "GET", url: "/metrics" });
    expect(r.headers["content-type"]).toMatch(/^text\/plain/);
    expect(r.body).toContain("hazri_ingest_events_total 7\n");
    expect(r.body).toContain('hazri_ingest_rejected_total{code="MQTT_PAYLOAD_JSON"} 2\n');
    expect(r.body).toContain('hazri_ingest_write_latency_seconds_bucket{le="0.005"} 1\n');
    expect(r.body).toContain('hazri_ingest_write_latency_seconds_bucket{le="0.002"} 0\n');
    expect(r.body).toContain("hazri_mqtt_connected 1\n");
  });

  it("GET /metrics: edges online/offline and each edge's outbox depth from its latest heartbeat, plus the total", async () => {
    const { app, live } = await make();
    const hb = (centerId: string, seq: number, ts: number, outboxDepth: number) =>
      live.apply({ v: 1, centerId, bootId: "boot-0001", seq, ts, mono: seq, synced: true, type: "heartbeat", outboxDepth, devices: {}, uplinkRttMs: null, uptimeS: seq });
    live.setEdgeStatus({ v: 1, centerId: "isb-01", state: "online", bootId: "boot-0001", ts: 1_000 });
    live.setEdgeStatus({ v: 1, centerId: "khi-01", state: "online", bootId: "boot-0001", ts: 1_000 });
    live.setEdgeStatus({ v: 1, centerId: "khi-01", state: "offline", bootId: "boot-0001", ts: 2_000 });
    live.setEdgeStatus({ v: 1, centerId: "lhr-01", state: "online", bootId: "boot-0001", ts: 1_000 });
    hb("isb-01", 7, 1_700_000_007_000, 12);
    hb("isb-01", 5, 1_700_000_005_000, 40); // a late re-send of an older heartbeat: not the latest
    hb("khi-01", 3, 1_700_000_003_000, 250);
    // lhr-01 has sent no heartbeat yet: no depth series for it (unknown is not 0).
    const r = await app.inject({ method: "GET", url: "/metrics" });
    expect(r.body).toContain("# TYPE hazri_edges_online gauge\nhazri_edges_online 2\n");
    expect(r.body).toContain("hazri_edges_offline 1\n");
    expect(r.body).toContain('hazri_edge_outbox_depth{center="isb-01"} 12\n');
    expect(r.body).toContain('hazri_edge_outbox_depth{center="khi-01"} 250\n');
    expect(r.body).not.toContain('hazri_edge_outbox_depth{center="lhr-01"}');
    expect(r.body).toContain("hazri_edge_outbox_depth_total 262\n");
    expect(r.body).toContain('hazri_edge_last_heartbeat_timestamp_seconds{center="isb-01"} 1700000007\n');
    // Every sample line parses as `name{labels} value` (exposition format 0.0.4).
    for (const line of r.body.split("\n").filter((l) => l && !l.startsWith("#"))) expect(line).toMatch(/^[a-z_]+(\{[a-z]+="[^"]*"\})? -?[0-9.e+]+$/);
  });
});
