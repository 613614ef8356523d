/**
 * Issue 5 "Broker": an external broker with shared subscriptions. Two server
 * instances (in-process startServer, sharedGroup "hazri") on one real
 * Mosquitto 2.x split the uplink (MQTT 5 §4.8.2 `$share/<group>/<filter>`;
 * Mosquitto accepts it from MQTT 3.1.1 clients too — aedes has no $share).
 * Zero loss: every event acked, exactly N points in InfluxDB 1.6.7, and both
 * instances ingested a non-zero share.
 *
 * The harness runs Mosquitto with `max_queued_messages 0` (unlimited): the
 * default of 1000 silently drops QoS 1 messages for a lagging subscriber.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import { startInfluxd, startMosquitto, seriesRows, waitFor, type InfluxInstance, type MosquittoInstance } from "./harness/index.ts";
import { startServer, type RunningServer } from "../server/src/server.ts";
import { connectFakeEdge, doorEvent, type FakeEdge } from "./server-edge-client.ts";

const EDGES = 8;
const PER_EDGE = 300; // N = 2 400 events
const BATCH = 25;
const DB = "hazri_shared";

describe("two servers sharing the ingest on Mosquitto ($share/hazri/...)", () => {
  let influx: InfluxInstance;
  let mosq: MosquittoInstance;
  const servers: RunningServer[] = [];
  const edges: FakeEdge[] = [];

  beforeAll(async () => {
    [influx, mosq] = await Promise.all([startInfluxd(), startMosquitto()]);
  });
  afterAll(async () => {
    await Promise.all(edges.map((e) => e.close().catch(() => {})));
    for (const s of servers) await s.close().catch(() => {});
    await mosq?.stop();
    await influx?.stop();
  });

  it("N ≥ 2 000 events from 8 edges: all acked, exactly N points, both instances did work", async () => {
    for (const name of ["a", "b"])
      servers.push(
        await startServer(
          {
            http: { host: "127.0.0.1", port: 0 },
            broker: { url: mosq.url, sharedGroup: "hazri" },
            mqtt: { clientId: `hazri-server-${name}` },
            influx: { kind: "v1", url: influx.url, database: DB },
            ingest: { maxBatchDelayMs: 10 },
          },
          { logger: silentLogger, clock: systemClock },
        ),
      );
    const T0 = Date.now() - 3_600_000;
    for (let i = 0; i < EDGES; i++) edges.push(await connectFakeEdge({ url: mosq.url, centerId: `shr-${String(i).padStart(2, "0")}` }));

    await Promise.all(
      edges.map(async (e) => {
        for (let s = 1; s <= PER_EDGE; s += BATCH) {
          const events = [];
          for (let k = s; k < s + BATCH && k <= PER_EDGE; k++) events.push(doorEvent(e.centerId, k, T0 + k));
          await e.send(events);
        }
      }),
    );
    const N = EDGES * PER_EDGE;
    await waitFor(() => edges.every((e) => e.acked.size === PER_EDGE) || null, {
      timeoutMs: 60_000,
      what: `all ${N} events acked (have ${edges.map((e) => e.acked.size).join(",")})`,
    });
    for (const e of edges) expect(e.rejected).toEqual([]);

    const counted = async () => Number(seriesRows(await influx.query('SELECT count("seq") FROM "door"', DB))[0]?.count ?? 0);
    // Acks are sent only after the write, so the count is final now.
    expect(await counted()).toBe(N);
    const perCenter = seriesRows(await influx.query('SELECT count("seq") FROM "door" GROUP BY "center"', DB));
    expect(perCenter.length).toBe(EDGES);

    const [a, b] = servers.map((s) => s.metrics.eventsIngested) as [number, number];
    console.log(`[shared] instance a ingested ${a}, instance b ${b} (N = ${N})`);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(a + b).toBe(N); // each message went to exactly one member of the group

    // A replay of everything (the acks "were lost"): acked again, still exactly N points.
    for (const e of edges) e.acked.clear();
    await Promise.all(
      edges.map(async (e) => {
        const events = [];
        for (let k = 1; k <= PER_EDGE; k++) events.push(doorEvent(e.centerId, k, T0 + k));
        for (let s = 0; s < events.length; s += 100) await e.send(events.slice(s, s + 100));
      }),
    );
    await waitFor(() => edges.every((e) => e.acked.size === PER_EDGE) || null, { timeoutMs: 60_000, what: "replay acked" });
    const dups = servers.reduce((n, s) => n + s.metrics.duplicates, 0);
    console.log(`[shared] after replay: a ${servers[0]?.metrics.eventsIngested}/${servers[0]?.metrics.duplicates}, b ${servers[1]?.metrics.eventsIngested}/${servers[1]?.metrics.duplicates}`);
    console.log(`[shared] replay: ${dups} of ${N} recognised as on-wire duplicates (the rest were re-written = overwritten)`);
    expect(await counted()).toBe(N);
  });
});
