/**
 * The point key (protocol/influx.ts: measurement + tags + ts·1e6 + seq mod 1e6)
 * makes a re-sent event overwrite its earlier copy. Here the same events reach
 * InfluxDB TWICE for real: written by one server, then re-sent to a restarted
 * server whose dedupe window is empty (so it writes them again, it does not
 * just re-ack). Afterwards: one point per event, with the field values of the
 * event. Then an edge whose outbox was wiped (seq restarts at 1, new boot id)
 * adds new points beside the old ones instead of overwriting them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import type { HazriEvent } from "../protocol/events.ts";
import { eventToPoint, MEASUREMENTS } from "../protocol/influx.ts";
import { startServer, type RunningServer } from "../server/src/server.ts";
import type { ServerConfigInput } from "../server/src/config.ts";
import { seriesRows, startInfluxd, waitFor, type InfluxInstance } from "./harness/index.ts";
import { connectFakeEdge, type FakeEdge } from "./server-edge-client.ts";

const C = "ovw-01";
const DB = "hazri_overwrite";

function eventsOf(bootId: string, firstSeq: number, t0: number): HazriEvent[] {
  const b = (i: number) => ({ v: 1 as const, centerId: C, bootId, seq: firstSeq + i, ts: t0 + i * 1000, mono: 10 + i, synced: true });
  return [
    { ...b(0), type: "badge", door: "main", reader: "r1", direction: "in", cardId: "0A0B0C0D01", memberId: "m-1", decision: "granted", reason: "ok", flagged: false },
    { ...b(1), type: "badge", door: "main", reader: "r1", direction: "in", cardId: "0A0B0C0D02", memberId: null, decision: "denied", reason: "unknown_card", flagged: false },
    { ...b(2), type: "seat", seat: "s-01", zone: "z1", state: "occupied", source: "ld2410" },
    { ...b(3), type: "door", door: "main", state: "opened" },
    { ...b(4), type: "power", source: "battery", link: "ok", device: "ups1", transition: true, ups: { status: ["OB", "DISCHRG"], chargePct: 81.5, runtimeS: 1200, batteryV: 25.9, inputV: null, outputV: 229, loadPct: 31, tempC: null } },
    { ...b(5), type: "heartbeat", outboxDepth: 7, devices: { r1: "ok", ups1: "degraded" }, uplinkRttMs: 14.5, uptimeS: 3600, cacheVersion: 12 },
    { ...b(6), type: "uplink", state: "down", lastContactTs: t0 + 5500, cause: "close" },
  ];
}

/** InfluxDB's RFC3339Nano rendering of a point time (trailing zeros of the fraction trimmed). */
function rfc3339Nano(timeNs: string): string {
  const ns = BigInt(timeNs);
  const secs = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  return `${new Date(Number(secs) * 1000).toISOString().slice(0, 19)}${frac ? `.${frac}` : ""}Z`;
}

/** What a row of `SELECT *` must hold for this event: its time, every tag and every field. */
function expectedRow(e: HazriEvent): Record<string, unknown> {
  const p = eventToPoint(e);
  const fields = Object.fromEntries(Object.entries(p.fields).map(([k, v]) => [k, typeof v === "object" ? v.int : v]));
  return { time: rfc3339Nano(p.timeNs), ...p.tags, ...fields };
}

async function rowsOf(influx: InfluxInstance, m: string): Promise<Record<string, unknown>[]> {
  return seriesRows(await influx.query(`SELECT * FROM "${m}" WHERE "center" = '${C}'`, DB));
}

describe("a re-sent event reaching InfluxDB twice overwrites its point", () => {
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

  const start = async () => {
    const cfg: ServerConfigInput = {
      http: { host: "127.0.0.1", port: 0 },
      broker: { embedded: { host: "127.0.0.1", port: 0 } },
      influx: { kind: "v1", url: influx.url, database: DB },
      ingest: { maxBatchDelayMs: 5 },
    };
    server = await startServer(cfg, { logger: silentLogger, clock: systemClock });
    return server;
  };
  const sendAll = async (s: RunningServer, bootId: string, evs: HazriEvent[]) => {
    edge = await connectFakeEdge({ url: s.brokerUrl, centerId: C, bootId });
    await edge.send(evs);
    await waitFor(() => evs.every((e) => edge?.acked.has(e.seq)) || null, { timeoutMs: 20_000, what: `${evs.length} events acked` });
    await edge.close();
    edge = undefined;
  };

  it("same events after a server restart (empty dedupe window): written again, still one point per event, values intact", async () => {
    const evs = eventsOf("boot-ovw-01", 1, Date.now() - 120_000);
    const s1 = await start();
    await sendAll(s1, "boot-ovw-01", evs);
    expect(s1.metrics.eventsIngested).toBe(evs.length);
    await s1.close();

    const s2 = await start();
    await sendAll(s2, "boot-ovw-01", evs);
    // The second server really wrote them (no dedupe memory across a restart): the overwrite is InfluxDB's.
    expect(s2.metrics.duplicates).toBe(0);
    expect(s2.metrics.eventsIngested).toBe(evs.length);
    expect(s2.metrics.writeBatches).toBeGreaterThanOrEqual(1);

    for (const m of new Set(evs.map((e) => MEASUREMENTS[e.type]))) {
      const want = evs.filter((e) => MEASUREMENTS[e.type] === m).map(expectedRow);
      const got = await rowsOf(influx, m);
      expect(got, m).toHaveLength(want.length);
      for (const w of want) expect(got, m).toContainEqual(expect.objectContaining(w));
    }
    await s2.close();
    server = undefined;
  });

  it("a wiped outbox (seq restarts at 1, new boot id) adds points beside the old ones; none is overwritten", async () => {
    const before = await Promise.all(Object.values(MEASUREMENTS).map((m) => rowsOf(influx, m)));
    const old = before.flat();
    expect(old.length).toBe(7); // the previous case's events
    const fresh = eventsOf("boot-ovw-02", 1, Date.now() - 30_000);
    const s = await start();
    await sendAll(s, "boot-ovw-02", fresh);
    expect(s.metrics.duplicates).toBe(0);
    const after = (await Promise.all(Object.values(MEASUREMENTS).map((m) => rowsOf(influx, m)))).flat();
    expect(after).toHaveLength(old.length + fresh.length);
    for (const r of old) expect(after).toContainEqual(r);
    for (const e of fresh) expect(after).toContainEqual(expect.objectContaining(expectedRow(e)));
    // The live view (rebuilt from the old points at start) puts the new boot's events first: same seqs, later time.
    const live = (await (await fetch(`${s.httpUrl}/api/centers/${C}/live`)).json()) as { lastEvents: HazriEvent[] };
    expect(live.lastEvents[0]).toMatchObject({ bootId: "boot-ovw-02", seq: 7 });
    await s.close();
    server = undefined;
  });
});
