/**
 * Scale mode, issue 4 "done when": 1,000 simulated edges, each its own MQTT.js
 * client, against the real embedded aedes broker and the server's real ingest
 * (zod parse, dedupe, ack-after-write), on this 2-core box. InfluxDB is
 * replaced by an in-memory sink that records every point it is asked to
 * write, so the test can count each event exactly once; the bench
 * (bench/sim-scale.ts) runs the same fleet against the full server + influxd.
 * Asserts delivery, not speed; prints the rate.
 */
import type net from "node:net";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import { EdgeStatus } from "../protocol/messages.ts";
import { topics } from "../protocol/topics.ts";
import { startEmbeddedBroker, type EmbeddedBroker } from "../server/src/broker/embedded.ts";
import { createIngest, type Ingest } from "../server/src/ingest/ingest.ts";
import { createLiveState } from "../server/src/live/state.ts";
import { createMetrics, type Metrics } from "../server/src/metrics.ts";
import { startScaleFleet, type ScaleFleet } from "../firmware-sim/src/scale/fleet.ts";
import { waitFor } from "./harness/wait.ts";

const CENTERS = 1000;

interface Sink {
  /** `<center>/<seq>` of every point written (a replay writes the same key again). */
  keys: Set<string>;
  writes: number;
  offline: Set<string>;
  online: Set<string>;
  metrics: Metrics;
  close(): Promise<void>;
}

/** The server's ingest wired to an MQTT.js client like server.ts does, with a memory "InfluxDB". */
async function startSink(brokerUrl: string): Promise<Sink> {
  return startSinkWith(brokerUrl);
}

async function startSinkWith(brokerUrl: string, creds?: { username: string; password: string }): Promise<Sink> {
  const keys = new Set<string>();
  const offline = new Set<string>();
  const online = new Set<string>();
  const metrics = createMetrics();
  const sink = { keys, writes: 0, offline, online, metrics } as Omit<Sink, "close">;
  const client = mqtt.connect(brokerUrl, { clientId: "scale-test-server", clean: true, reconnectPeriod: 1000, ...(creds ?? {}) });
  const ingest: Ingest = createIngest({
    influx: {
      async writeLines(lines) {
        sink.writes += lines.length;
        for (const l of lines) keys.add(`${/center=([^, ]+)/.exec(l)?.[1]}/${/[ ,]seq=(\d+)i/.exec(l)?.[1]}`);
      },
    },
    publishAck: async (centerId, ack) => void (await client.publishAsync(topics.down(centerId, "ack"), JSON.stringify(ack), { qos: 1 })),
    live: createLiveState(),
    logger: silentLogger,
    clock: systemClock,
    metrics,
    opts: { maxPendingEvents: 200_000 },
  });
  client.on("message", (topic, payload) => {
    if (topic.endsWith("/up/status") && payload.length > 0) {
      const s = EdgeStatus.parse(JSON.parse(payload.toString()));
      (s.state === "offline" ? offline : online).add(s.centerId);
    }
    ingest.handleMessage(topic, payload);
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  (client.stream as net.Socket).setNoDelay?.(true);
  await client.subscribeAsync([topics.allUp("events"), topics.allUp("status")], { qos: 1 });
  return {
    ...sink,
    get writes() {
      return sink.writes;
    },
    async close() {
      await ingest.close();
      await client.endAsync();
    },
  };
}

let broker: EmbeddedBroker;
let sink: Sink;
let fleet: ScaleFleet | undefined;

beforeAll(async () => {
  broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, logger: silentLogger });
  sink = await startSink(broker.url);
});

afterAll(async () => {
  await fleet?.stop();
  await sink?.close();
  await broker?.close();
});

describe(`scale mode: ${CENTERS} edges against embedded aedes + the real ingest`, () => {
  it("every event generated is acked and stored exactly once, through a national-outage reconnect storm", async () => {
    const t0 = performance.now();
    fleet = await startScaleFleet({ brokerUrl: broker.url, centers: CENTERS, ratePerCenter: 0.5, seed: 2026, heartbeatS: 10 });
    const connectS = (performance.now() - t0) / 1000;
    expect(broker.connectedClients()).toBeGreaterThanOrEqual(CENTERS);
    await waitFor(() => sink.online.size === CENTERS, { timeoutMs: 30_000, what: "every edge's retained online status" });

    // Let traffic flow, then the nation goes dark for 3 s and comes back within 2 s.
    await waitFor(() => fleet!.stats().acked >= CENTERS * 2, { timeoutMs: 60_000, what: "steady traffic acked" });
    const storm = await fleet.storm({ outageMs: 3000, reconnectWithinMs: 2000, timeoutMs: 90_000 });
    // The broker fired every Will (abrupt close, no DISCONNECT: MQTT 3.1.1 §3.1.2.5).
    expect(sink.offline.size).toBe(CENTERS);
    expect(storm.allReconnectedMs).not.toBeNull();
    expect(storm.backlogAckedMs).not.toBeNull();

    const s = await fleet.drain(90_000);
    expect(s.pending).toBe(0);
    expect(s.acked).toBe(s.generated);
    expect(s.rejected).toBe(0);
    // Every (center, seq) the fleet generated reached the sink; nothing else did.
    expect(sink.keys.size).toBe(s.generated);
    expect(sink.metrics.eventsIngested).toBe(s.generated);
    expect(Object.keys(sink.metrics.rejected)).toEqual([]);
    // Each center's uplink ledger shows the outage (down + up) as events.
    expect(s.disconnects).toBeGreaterThanOrEqual(CENTERS);

    await fleet.stop();
    fleet = undefined;
    console.log(
      `[sim-scale] ${CENTERS} centers connected in ${connectS.toFixed(1)} s; ${s.generated} events in ${s.elapsedS} s: ` +
        `published ${s.publishedPerSec}/s, acked ${s.ackedPerSec}/s (resent ${s.resent}, duplicate acks ${s.duplicateAcks}); ` +
        `ack latency p50 ${s.ackLatencyMs.p50} ms p99 ${s.ackLatencyMs.p99} ms; storm: backlog ${storm.backlogEvents} events, ` +
        `all reconnected in ${storm.allReconnectedMs} ms, backlog acked in ${storm.backlogAckedMs} ms`,
    );
  });

  it("broker auth \"centers\": every edge presents its own credentials (username = center id); a wrong password is refused", async () => {
    const auth = await startEmbeddedBroker({
      host: "127.0.0.1",
      port: 0,
      logger: silentLogger,
      auth: { mode: "centers", verifyCenter: async (id, pw) => pw.toString() === `pw-${id}` },
    });
    const acker = await startSinkWith(auth.url, auth.serverCredentials!);
    try {
      const f = await startScaleFleet({ brokerUrl: auth.url, centers: 20, ratePerCenter: 2, seed: 3, idPrefix: "au", credentials: (id) => ({ username: id, password: `pw-${id}` }) });
      try {
        await waitFor(() => f.stats().acked >= 40, { timeoutMs: 30_000, what: "authenticated edges acked" });
        const s = await f.drain(30_000);
        expect(s.acked).toBe(s.generated);
        expect(acker.keys.size).toBe(s.generated);
      } finally {
        await f.stop();
      }
      await expect(
        startScaleFleet({ brokerUrl: auth.url, centers: 1, seed: 4, idPrefix: "bad", credentials: { username: "bad-0001", password: "nope" }, connectTimeoutMs: 3000 }),
      ).rejects.toMatchObject({ code: "DEVICE_TIMEOUT" });
    } finally {
      await acker.close();
      await auth.close();
    }
  });
});
