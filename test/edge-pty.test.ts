/**
 * Edge agent on REAL pseudo-terminals (socat), reliability matrix DA-8 in small:
 * a simulated RDM6300 writes into one pty pair, the agent drives an LCUS relay
 * on another; we read the relay bytes back from the device side of the pty.
 * Uplink goes to an in-process aedes acting as the central broker.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SerialPort } from "serialport";
import mqtt, { type MqttClient } from "mqtt";
import pino from "pino";
import { startPtyPair, type PtyPair } from "../firmware-sim/src/pty.ts";
import { createEdgeAgent, type EdgeAgent } from "../edge/src/agent.ts";
import { parseEdgeConfig } from "../edge/src/config.ts";
import { encodeRdm6300 } from "../edge/src/devices/rdm6300/decode.ts";
import { fromHex } from "../edge/src/devices/frame.ts";
import { startTestBroker, until } from "../edge/src/uplink/test-broker.ts";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import { topics } from "../protocol/topics.ts";
import { toRanges } from "../protocol/messages.ts";
import type { HazriEvent } from "../protocol/events.ts";

let dir: string;
let rfid: PtyPair;
let relay: PtyPair;
let broker: Awaited<ReturnType<typeof startTestBroker>>;
let server: MqttClient;
let agent: EdgeAgent;
let received: HazriEvent[] = [];
let rfidDev: SerialPort;
let relayDev: SerialPort;
let relayBytes = "";

const openDev = (p: string) =>
  new Promise<SerialPort>((resolve, reject) => {
    const sp = new SerialPort({ path: p, baudRate: 9600, autoOpen: false });
    sp.open((err) => (err ? reject(err) : resolve(sp)));
  });
const writeDev = (sp: SerialPort, bytes: Uint8Array) =>
  new Promise<void>((resolve, reject) => sp.write(Buffer.from(bytes), (e) => (e ? reject(e) : sp.drain(() => resolve()))));

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "hazri-edge-pty-"));
  writeFileSync(path.join(dir, "members.yaml"), 'members:\n  - { id: m1, cards: ["62E3086CED"], status: active }\n  - { id: m3, cards: ["0801161DD6"], status: active }\n');
  rfid = await startPtyPair({ dir, name: "rfid" });
  relay = await startPtyPair({ dir, name: "relay" });
  broker = await startTestBroker();
  server = await mqtt.connectAsync(broker.url, { clientId: "fake-server" });
  await server.subscribeAsync(topics.allUp("events"), { qos: 1 });
  server.on("message", (_t, payload) => {
    const b = JSON.parse(payload.toString());
    received.push(...b.events);
    const seqs = b.events.map((e: HazriEvent) => e.seq);
    server.publish(topics.down("lhr-01", "ack"), JSON.stringify({ v: 1, centerId: "lhr-01", acked: toRanges(seqs), rejected: [], serverTime: Date.now() }), { qos: 1 });
  });
  const config = parseEdgeConfig(
    {
      center: "lhr-01",
      dataDir: "./data",
      uplink: { url: broker.url, heartbeatS: 3600 },
      lan: { host: "127.0.0.1", port: 0 },
      members: "./members.yaml",
      doors: [{ id: "main", relay: { path: relay.hostPath }, unlockMs: 300 }],
      readers: [{ id: "main-in", type: "rdm6300", door: "main", direction: "in", path: rfid.hostPath }],
    },
    dir,
  );
  agent = await createEdgeAgent(config, { logger: process.env.EDGE_DEBUG ? (pino({ level: "debug" }) as never) : silentLogger, clock: systemClock, serialBackoff: { initialMs: 100, maxMs: 1000 } });
  // Device sides first: opening a port flushes its input (tcflush in the
  // serialport binding), which would eat bytes the agent wrote before.
  rfidDev = await openDev(rfid.devicePath);
  relayDev = await openDev(relay.devicePath);
  relayDev.on("data", (b: Buffer) => (relayBytes += b.toString("hex")));
  await agent.start();
  await until(() => agent.status().devices["main-in"] === "ok" && agent.status().devices.main === "ok", "agent opened both ptys", 10_000);
  // On open the agent re-sends the desired relay state (locked): the board powers up off (§8.1).
  await until(() => relayBytes === "a00100a1", "relay resync OFF after open");
});

afterAll(async () => {
  await agent?.stop();
  for (const sp of [rfidDev, relayDev]) if (sp?.isOpen) await new Promise<void>((r) => sp.close(() => r()));
  await rfid?.stop();
  await relay?.stop();
  await server?.endAsync();
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  received = [];
});
afterEach(async () => {
  // let any unlock window close so tests do not see each other's relay bytes
  await until(() => !received.length || agent.status().outboxDepth === 0, "outbox drained", 10_000);
});

describe("edge agent over socat ptys", () => {
  it("garbage and bad-checksum frames → no relay bytes at all, counters incremented", async () => {
    const before = relayBytes;
    const discardedBefore = agent.status().discardedBytes["main-in"] ?? 0;
    await writeDev(rfidDev, fromHex("FF 00 13 37 02 41 42"));
    await writeDev(rfidDev, fromHex("02 36 32 45 33 30 38 36 43 45 44 30 39 03")); // checksum 09, computed 08
    await writeDev(rfidDev, fromHex("02 36 32 45 33 30 38 36 43 45 44 30 38 0D")); // missing ETX
    await until(() => (agent.status().readers["main-in"]?.checksumErrors ?? 0) >= 1, "checksum error counted");
    await until(() => (agent.status().discardedBytes["main-in"] ?? 0) - discardedBefore >= 4 + 14, "discarded bytes counted");
    expect(relayBytes).toBe(before);
    expect(agent.status().readers["main-in"]?.granted).toBe(0);
  });

  it("a valid RDM6300 frame → A0 01 01 A2 on the relay pty, then A0 01 00 A1 after unlockMs", async () => {
    const start = relayBytes.length;
    const frame = encodeRdm6300("62E3086CED");
    await writeDev(rfidDev, frame.subarray(0, 5)); // split write
    await writeDev(rfidDev, frame.subarray(5));
    await until(() => relayBytes.slice(start).startsWith("a00101a2"), "relay ON bytes");
    await until(() => relayBytes.slice(start) === "a00101a2a00100a1", "relay OFF bytes");
    await until(() => received.some((e) => e.type === "badge" && e.decision === "granted"), "badge event at the server");
  });

  it("unplug (kill socat) and replug: the agent reopens and grants again", async () => {
    await rfid.kill9();
    await until(() => agent.status().devices["main-in"] === "down", "reader down after unplug", 10_000);
    rfid = await startPtyPair({ dir, name: "rfid" });
    rfidDev = await openDev(rfid.devicePath);
    await until(() => agent.status().devices["main-in"] === "ok", "reader reopened", 10_000);
    const start = relayBytes.length;
    // A different card: the same card within 500 ms would (correctly) be a repeat of one presentation (§1.3).
    await writeDev(rfidDev, encodeRdm6300("0801161DD6"));
    await until(() => relayBytes.slice(start).startsWith("a00101a2"), "relay ON after replug", 5000);
    await until(() => received.some((e) => e.type === "badge" && e.cardId === "0801161DD6" && e.decision === "granted"), "badge after replug");
  });
});
