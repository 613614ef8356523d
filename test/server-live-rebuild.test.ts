/**
 * Issue 5 "Live state": after a server restart the live view is rebuilt from
 * InfluxDB (points = deduplicated events) through the same reducer, and edge
 * online/offline from the retained `up/status` (kept by the external broker,
 * real Mosquitto here; the embedded aedes broker keeps retained messages in
 * memory only, so with it the status returns when the edge reconnects).
 * `/api/centers/:id/live` must be equal before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import type { HazriEvent } from "../protocol/events.ts";
import { startInfluxd, startMosquitto, waitFor, type InfluxInstance, type MosquittoInstance } from "./harness/index.ts";
import { startServer, type RunningServer } from "../server/src/server.ts";
import type { ServerConfigInput } from "../server/src/config.ts";
import { lastCutoff } from "../server/src/live/checkout.ts";
import { connectFakeEdge, doorEvent, type FakeEdge } from "./server-edge-client.ts";

const C = "rbl-01";
const BOOT = "boot-test-01";

describe("live state survives a server restart (InfluxDB + retained status)", () => {
  let influx: InfluxInstance;
  let mosq: MosquittoInstance;
  let server: RunningServer | undefined;
  let edge: FakeEdge | undefined;

  beforeAll(async () => {
    [influx, mosq] = await Promise.all([startInfluxd(), startMosquitto()]);
  });
  afterAll(async () => {
    await edge?.close().catch(() => {});
    await server?.close().catch(() => {});
    await mosq?.stop();
    await influx?.stop();
  });

  const cfg = (): ServerConfigInput => ({
    http: { host: "127.0.0.1", port: 0 },
    broker: { url: mosq.url },
    influx: { kind: "v1", url: influx.url, database: "hazri_rebuild" },
    ingest: { maxBatchDelayMs: 5 },
    live: { checkoutAt: "04:00", timeZone: "Asia/Karachi" },
  });
  const getLive = async (s: RunningServer) => {
    const r = await fetch(`${s.httpUrl}/api/centers/${C}/live`);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  it("/api/centers/:id/live equal before and after; people-in honours the cut-off", async () => {
    const now = Date.now();
    const cutoff = lastCutoff(now, "04:00", "Asia/Karachi");
    const T = cutoff + 60_000;
    const b = { v: 1, centerId: C, bootId: BOOT, mono: 1.5, synced: true } as const;
    const badge = (seq: number, ts: number, memberId: string, direction: "in" | "out", decision: "granted" | "denied" = "granted"): HazriEvent => ({
      ...b, seq, ts, type: "badge", door: "main", reader: "r1", direction, cardId: `0A0B0C0D${String(seq).padStart(2, "0")}`, memberId, decision, reason: decision === "granted" ? "ok" : "suspended", flagged: false,
    });
    const events: HazriEvent[] = [
      badge(1, cutoff - 120_000, "m-old", "in"), // before the cut-off: checked out automatically
      badge(2, T + 1000, "m-1", "in"),
      badge(3, T + 2000, "m-2", "in"),
      badge(4, T + 3000, "m-2", "out"),
      badge(5, T + 4000, "m-3", "in", "denied"),
      { ...b, seq: 6, ts: T + 5000, type: "seat", seat: "s-01", zone: "z1", state: "occupied", source: "mqtt" },
      { ...b, seq: 7, ts: T + 6000, type: "seat", seat: "s-02", zone: "z1", state: "vacant", source: "ld2410" },
      { ...b, seq: 8, ts: T + 7000, type: "power", source: "battery", link: "ok", device: "ups1", transition: true, ups: { status: ["OB", "DISCHRG"], chargePct: 90, runtimeS: 1800, batteryV: 26.4, inputV: null, outputV: 230, loadPct: 22, tempC: null } },
      { ...b, seq: 9, ts: T + 8000, type: "uplink", state: "up", cause: "connack" },
      { ...b, seq: 10, ts: T + 9000, type: "heartbeat", outboxDepth: 3, devices: { r1: "ok", ups1: "degraded" }, uplinkRttMs: 12.5, uptimeS: 3600 },
      // More than LAST_EVENTS (50) in total, so the "recent events" query is really cut.
      ...Array.from({ length: 60 }, (_, i) => doorEvent(C, 11 + i, T + 10_000 + i * 100, BOOT)),
      { ...b, seq: 71, ts: T + 20_000, type: "seat", seat: "s-01", zone: "z1", state: "vacant", source: "mqtt" },
      { ...b, seq: 72, ts: T + 21_000, type: "seat", seat: "s-01", zone: "z1", state: "occupied", source: "mqtt" },
    ];

    server = await startServer(cfg(), { logger: silentLogger, clock: systemClock });
    edge = await connectFakeEdge({ url: mosq.url, centerId: C, bootId: BOOT });
    await edge.publishStatus("online", T + 30_000);
    for (let i = 0; i < events.length; i += 20) await edge.send(events.slice(i, i + 20));
    await waitFor(() => edge?.acked.size === events.length || null, { timeoutMs: 20_000, what: "all acked" });
    const s1 = server;
    await waitFor(async () => ((await getLive(s1)).body.edge as { online?: boolean } | null)?.online === true || null, {
      timeoutMs: 10_000,
      what: "edge online in the live view",
    });
    const before = await getLive(server);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ peopleInCount: 1, peopleIn: [{ memberId: "m-1" }], seatsOccupied: 1, power: { source: "battery" } });
    expect((before.body.lastEvents as unknown[]).length).toBe(50);
    const listBefore = await (await fetch(`${server.httpUrl}/api/centers`)).json();

    await server.close();
    server = undefined;
    server = await startServer(cfg(), { logger: silentLogger, clock: systemClock });
    const s2 = server;
    // The retained status arrives right after SUBSCRIBE; the rest was rebuilt before the server answered.
    await waitFor(async () => ((await getLive(s2)).body.edge as { online?: boolean } | null)?.online === true || null, {
      timeoutMs: 10_000,
      what: "retained status after restart",
    });
    const after = await getLive(server);
    expect(after.body).toEqual(before.body);
    expect(await (await fetch(`${server.httpUrl}/api/centers`)).json()).toEqual(listBefore);

    // A replay of everything after the restart changes nothing (idempotent reducer, same point keys).
    // Cleared BEFORE re-sending: an ack can arrive while later batches are still being published.
    edge.acked.clear();
    for (let i = 0; i < events.length; i += 20) await edge.send(events.slice(i, i + 20));
    await waitFor(() => edge?.acked.size === events.length || null, { timeoutMs: 20_000, what: "replay acked" });
    expect((await getLive(server)).body).toEqual(before.body);
  });
});
