/**
 * Replay after an outage (issue 3; reliability matrix SF-8): 50,000 events are
 * queued in the edge's outbox while the central broker is unreachable; the
 * broker comes up; the backlog replays in order, in batches, while card taps
 * keep being decided (relay bytes + badge events) during the replay. Every seq
 * reaches the (fake, acking) server, first deliveries in seq order, and the
 * heartbeat shows the replay progress. Door latency during replay is measured
 * in bench/edge-replay.ts, not asserted here.
 */
import { Aedes } from "aedes";
import net from "node:net";
import { writeFileSync } from "node:fs";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { SerialPortMock } from "serialport";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdgeAgent, type EdgeAgent } from "../edge/src/agent.ts";
import { parseEdgeConfig } from "../edge/src/config.ts";
import { encodeRdm6300 } from "../edge/src/devices/rdm6300/decode.ts";
import { openOutbox } from "../edge/src/outbox/outbox.ts";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import type { EventDraft, HazriEvent } from "../protocol/events.ts";
import { toRanges } from "../protocol/messages.ts";
import { topics } from "../protocol/topics.ts";
import { freePort, makeTempDir, removeDir, waitFor } from "./harness/index.ts";

const MockBinding = SerialPortMock.binding;
type MockPort = Awaited<ReturnType<typeof MockBinding.open>>;
const opened = new Map<string, MockPort>();
const origOpen = MockBinding.open.bind(MockBinding);
(MockBinding as { open: typeof MockBinding.open }).open = async (o) => {
  const p = await origOpen(o);
  opened.set(o.path, p);
  return p;
};

const C = "lhr-01";
const BACKLOG = 50_000;
const CARDS = ["62E3086CED", "01026F6C3A"];
let dir: string;
let port: number;
let agent: EdgeAgent | null = null;
let broker: { close(): Promise<void> } | null = null;
let server: MqttClient | null = null;
const firstSeen: number[] = [];
const seen = new Set<number>();
const events = new Map<number, HazriEvent>();

beforeAll(async () => {
  dir = await makeTempDir("edge-replay");
  writeFileSync(
    path.join(dir, "members.yaml"),
    `members:\n${CARDS.map((c, i) => `  - { id: m${i}, cards: ["${c}"], status: active }`).join("\n")}\n`,
  );
  port = await freePort();
  // The outage: 50,000 events already queued (seat telemetry + door events, as a load-shedding day leaves them).
  const ob = openOutbox({ path: path.join(dir, "data/outbox.sqlite"), centerId: C, bootId: "boot-before", clock: systemClock, synced: () => true });
  for (let i = 0; i < BACKLOG; i += 5000) {
    const drafts: EventDraft[] = Array.from({ length: 5000 }, (_, j) =>
      (i + j) % 10 === 0
        ? { type: "door", door: "main", state: "opened" }
        : { type: "seat", seat: `s${(i + j) % 100}`, zone: "z1", state: (i + j) % 2 ? "occupied" : "vacant", source: "mqtt" },
    );
    ob.appendMany(drafts);
  }
  ob.close();
  MockBinding.createPort("/dev/mock-relay", { record: true });
  MockBinding.createPort("/dev/mock-rfid", {});
});

afterAll(async () => {
  await agent?.stop();
  await server?.endAsync();
  await broker?.close();
  MockBinding.reset();
  await removeDir(dir);
});

async function startBroker(p: number) {
  const b = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    s.setNoDelay(true);
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    b.handle(s);
  });
  await new Promise<void>((r) => srv.listen(p, "127.0.0.1", r));
  return {
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
      await new Promise<void>((r) => b.close(() => r()));
    },
  };
}

describe("backlog replay after an outage", () => {
  it("50,000 queued events replay in order while taps keep being decided", async () => {
    const config = parseEdgeConfig(
      {
        center: C,
        dataDir: "./data",
        uplink: { url: `mqtt://127.0.0.1:${port}`, heartbeatS: 1, batchSize: 500, window: 4, resendAfterMs: 30_000 },
        lan: { host: "127.0.0.1", port: 0 },
        members: "./members.yaml",
        doors: [{ id: "main", relay: { path: "/dev/mock-relay" }, unlockMs: 100 }],
        readers: [{ id: "main-in", type: "rdm6300", door: "main", direction: "in", path: "/dev/mock-rfid" }],
      },
      dir,
    );
    agent = await createEdgeAgent(config, { logger: silentLogger, clock: systemClock, binding: MockBinding, removeAfterMs: 20 });
    await agent.start();
    await waitFor(() => agent!.status().devices["main-in"] === "ok", { timeoutMs: 10_000, what: "reader open" });
    expect(agent.status().uplink).toBe("down");
    expect(agent.status().outboxDepth).toBeGreaterThanOrEqual(BACKLOG);

    // The broker (and the acking server) come up.
    broker = await startBroker(port);
    server = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: "fake-server" });
    (server.stream as net.Socket).setNoDelay?.(true);
    await server.subscribeAsync(topics.allUp("events"), { qos: 1 });
    server.on("message", (_t, payload) => {
      const b = JSON.parse(payload.toString()) as { events: HazriEvent[] };
      for (const e of b.events) {
        if (!seen.has(e.seq)) firstSeen.push(e.seq);
        seen.add(e.seq);
        events.set(e.seq, e);
      }
      server!.publish(topics.down(C, "ack"), JSON.stringify({ v: 1, centerId: C, acked: toRanges(b.events.map((e) => e.seq)), rejected: [], serverTime: Date.now() }), { qos: 1 });
    });
    await waitFor(() => agent!.status().replay?.active || undefined, { timeoutMs: 20_000, what: "replay started" });

    // Taps during the replay: alternate two cards so each is a new presentation.
    const relay = opened.get("/dev/mock-relay")!;
    const rfid = opened.get("/dev/mock-rfid")!;
    let tapsDuringReplay = 0;
    let granted = 0;
    for (let i = 0; agent.status().replay?.active && i < 200; i++) {
      const before = relay.recording.length;
      rfid.emitData(Buffer.from(encodeRdm6300(CARDS[i % 2]!)));
      // The relay command (A0 01 01 A2, §8) must follow each granted tap while the replay runs.
      await waitFor(() => relay.recording.subarray(before).includes(0xa2) || undefined, { timeoutMs: 5000, intervalMs: 2, what: `relay for tap ${i}` });
      tapsDuringReplay++;
      granted++;
    }
    expect(tapsDuringReplay).toBeGreaterThan(0);

    await waitFor(() => (agent!.status().outboxDepth === 0 && !agent!.status().replay?.active) || undefined, { timeoutMs: 90_000, what: "backlog drained" });
    const last = Math.max(...seen);
    for (let s = 1; s <= last; s++) if (!seen.has(s)) expect.fail(`seq ${s} never reached the server`);
    expect(firstSeen).toEqual([...firstSeen].sort((a, b) => a - b));
    const badges = [...events.values()].filter((e) => e.type === "badge");
    expect(badges.length).toBeGreaterThanOrEqual(granted);
    expect(badges.every((b) => b.type === "badge" && b.decision === "granted")).toBe(true);
    const progress = [...events.values()].filter((e) => e.type === "heartbeat" && e.replay?.active);
    expect(progress.length).toBeGreaterThan(0);
    console.log(`replayed ${BACKLOG} + ${last - BACKLOG} events; ${tapsDuringReplay} taps decided during the replay; heartbeats showing progress: ${progress.length}`);
  });
});
