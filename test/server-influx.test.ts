/**
 * Server spine against real components: InfluxDB 1.6.7 with Basic auth,
 * the embedded aedes broker, and a plain MQTT.js client playing the edge.
 * Checks the durability rule end to end: the ack arrives only for stored
 * events, the points read back with InfluxQL, and a re-sent batch overwrites
 * (one point per event) instead of double-counting.
 */
import type net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import { startInfluxd, seriesRows, waitFor, type InfluxInstance } from "./harness/index.ts";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import { topics } from "../protocol/topics.ts";
import type { AckMessage } from "../protocol/messages.ts";
import { createInfluxAdapter } from "../server/src/influx/adapter.ts";
import { startServer, type RunningServer } from "../server/src/server.ts";

const AUTH = { username: "hazri", password: "s3cret pass" };
const CENTER = "isb-01";
// Recent events: the live view empties people-in at the daily 04:00 PKT check-out, so a badge from 2025 would not count as "in".
const T0 = Date.now() - 60_000;

const base = (seq: number) => ({ v: 1, centerId: CENTER, bootId: "boot-it-01", seq, ts: T0 + seq * 1000, mono: seq, synced: true });
const EVENTS = [
  { ...base(1), type: "badge", door: "main", reader: "r1", direction: "in", cardId: "0A0B0C0D0E", memberId: "m-1", decision: "granted", reason: "ok", flagged: false },
  { ...base(2), type: "seat", seat: "s1", zone: "z1", state: "occupied", source: "mqtt" },
  { ...base(3), type: "door", door: "main", state: "opened" },
  { ...base(4), type: "door", door: "main", state: "closed" },
];
const batch = (events: unknown[]) => JSON.stringify({ v: 1, centerId: CENTER, bootId: "boot-it-01", sentAt: Date.now(), events });

function count(result: unknown): number {
  const row = seriesRows(result)[0];
  return Number(row?.count ?? 0);
}

describe("server + InfluxDB 1.6.7 (auth) + embedded broker", () => {
  let influx: InfluxInstance;
  let server: RunningServer | undefined;
  let edge: mqtt.MqttClient | undefined;

  beforeAll(async () => {
    influx = await startInfluxd({ auth: AUTH });
  });
  afterAll(async () => {
    await edge?.endAsync(true);
    await server?.close();
    await influx?.stop();
  });

  it("v1 transport: the official WriteApi writes through /write with Basic auth; InfluxQL reads back", async () => {
    const a = await createInfluxAdapter(
      { kind: "v1", url: influx.url, database: "transport_it", retentionPolicy: "raw", ...AUTH },
      { logger: silentLogger },
    );
    try {
      await a.ensureDatabase();
      await a.ensureDatabase(); // idempotent
      await a.writeLines(["t,k=a v=1i 1700000000000000001", "t,k=a v=2i 1700000000000000002"]);
      const rows = await a.query('SELECT "v" FROM "transport_it"."raw"."t" WHERE "k" = $k', { k: "a" });
      // precision=ns mapped to n: the sub-millisecond part survives.
      expect(rows[0]?.values).toEqual([
        ["2023-11-14T22:13:20.000000001Z", 1],
        ["2023-11-14T22:13:20.000000002Z", 2],
      ]);
      expect(await a.ping()).toBe(true);
      await expect(a.writeLines(["not line protocol"])).rejects.toMatchObject({ code: "INGEST_INFLUX_WRITE" });
      // After a failed flush the WriteApi is replaced: the next write works and nothing is written twice.
      await a.writeLines(["t,k=a v=3i 1700000000000000003"]);
      expect(count(await influx.query('SELECT count("v") FROM "raw"."t"', "transport_it"))).toBe(3);
    } finally {
      await a.close();
    }
    const wrong = await createInfluxAdapter(
      { kind: "v1", url: influx.url, database: "transport_it", username: AUTH.username, password: "wrong" },
      { logger: silentLogger },
    );
    await expect(wrong.writeLines(["t v=9i 1"])).rejects.toMatchObject({ code: "INGEST_INFLUX_WRITE", context: { status: 401 } });
    await wrong.close();
  });

  it("batch → InfluxDB → ack; re-sent batch → still one point per event", async () => {
    server = await startServer(
      {
        http: { host: "127.0.0.1", port: 0 },
        broker: { embedded: { host: "127.0.0.1", port: 0 } },
        influx: { kind: "v1", url: influx.url, database: "hazri_it", ...AUTH, timeoutMs: 2_000 },
        ingest: { maxBatchDelayMs: 10 },
      },
      { logger: silentLogger, clock: systemClock },
    );
    edge = await mqtt.connectAsync(server.brokerUrl, { clientId: `edge-${CENTER}`, clean: true });
    (edge.stream as net.Socket).setNoDelay?.(true);
    const acks: AckMessage[] = [];
    edge.on("message", (topic, payload) => {
      if (topic === topics.down(CENTER, "ack")) acks.push(JSON.parse(payload.toString()) as AckMessage);
    });
    await edge.subscribeAsync(topics.down(CENTER, "ack"), { qos: 1 });

    const bad = { ...base(5), type: "door", door: "main", state: "ajar" };
    await edge.publishAsync(topics.up(CENTER, "events"), batch([...EVENTS, bad]), { qos: 1 });
    await waitFor(() => acks.length >= 1, { timeoutMs: 10_000, what: "first ack" });
    expect(acks[0]).toMatchObject({ v: 1, centerId: CENTER, acked: [[1, 4]], rejected: [{ seq: 5, code: "MQTT_PAYLOAD_SCHEMA" }] });

    // The ack came after the write: the points are already there.
    expect(count(await influx.query(`SELECT count("seq") FROM "access" WHERE "center" = '${CENTER}'`, "hazri_it"))).toBe(1);
    expect(count(await influx.query(`SELECT count("seq") FROM "door" WHERE "center" = '${CENTER}'`, "hazri_it"))).toBe(2);
    const door = await influx.query(`SELECT "seq", "state" FROM "door" WHERE "center" = '${CENTER}'`, "hazri_it", { epoch: "ns" });
    expect(seriesRows(door).map((r) => r.state)).toEqual(["opened", "closed"]);

    // Replay (the edge never saw the ack, say): same point keys → overwrite, not double-count.
    await edge.publishAsync(topics.up(CENTER, "events"), batch(EVENTS), { qos: 1 });
    await waitFor(() => acks.length >= 2, { timeoutMs: 10_000, what: "second ack" });
    expect(acks[1]?.acked).toEqual([[1, 4]]);
    for (const [m, n] of [["access", 1], ["seat", 1], ["door", 2]] as const)
      expect(count(await influx.query(`SELECT count("seq") FROM "${m}" WHERE "center" = '${CENTER}'`, "hazri_it"))).toBe(n);

    // Live state and HTTP API see the events once.
    const live = (await (await fetch(`${server.httpUrl}/api/centers/${CENTER}/live`)).json()) as Record<string, unknown>;
    expect(live).toMatchObject({ peopleInCount: 1, seatsOccupied: 1, doors: { main: { state: "closed" } } });
    expect((live.lastEvents as unknown[]).length).toBe(4);
    const health = await fetch(`${server.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, influx: true, database: true, mqtt: true });
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    // The re-sent copy is recognised on the wire (recent-seq window): acked again, not written again.
    expect(metrics).toContain("hazri_ingest_events_total 4\n");
    expect(metrics).toContain("hazri_ingest_duplicates_total 4\n");
    expect(metrics).toContain('hazri_ingest_rejected_total{code="MQTT_PAYLOAD_SCHEMA"} 1\n');
  });

  it("InfluxDB paused: no ack; after resume the re-sent batch is stored and acked", async () => {
    if (!server || !edge) throw new Error("previous test did not start the server");
    const acks: AckMessage[] = [];
    edge.on("message", (topic, payload) => {
      if (topic === topics.down(CENTER, "ack")) acks.push(JSON.parse(payload.toString()) as AckMessage);
    });
    const e10 = { ...base(10), type: "door", door: "main", state: "opened" };
    influx.pause();
    try {
      await edge.publishAsync(topics.up(CENTER, "events"), batch([e10]), { qos: 1 });
      // The write times out (timeoutMs 2 s) and counts as a failure, with no ack.
      await waitFor(() => server?.metrics.writeFailures === 1, { timeoutMs: 20_000, what: "write failure counted" });
      expect(acks).toEqual([]);
    } finally {
      influx.resume();
    }
    await edge.publishAsync(topics.up(CENTER, "events"), batch([e10]), { qos: 1 });
    await waitFor(() => acks.length >= 1, { timeoutMs: 10_000, what: "ack after resume" });
    expect(acks[0]?.acked).toEqual([[10, 10]]);
    expect(count(await influx.query(`SELECT count("seq") FROM "door" WHERE "seq" = 10`, "hazri_it"))).toBe(1);
  });
});
