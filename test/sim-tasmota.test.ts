/**
 * Tasmota seat sensors (device-protocols.md §7.2) cross-checked with the real
 * edge agent: the simulator's Tasmota devices (tele/<topic>/LWT Online/Offline
 * retained, stat/<topic>/POWER ON/OFF, tele/<topic>/SENSOR JSON + TelePeriod)
 * next to an ESPHome one, the edge config made from the sim's own fragment
 * (`convention: tasmota`), the edge's LAN broker and seat tracker, and its
 * uplink to a test broker that acks like the server. Every seat change the sim
 * really published is one edge seat event; a Tasmota LWT makes the seat unknown.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdgeAgent, type EdgeAgent } from "../edge/src/agent.ts";
import { parseEdgeConfig } from "../edge/src/config.ts";
import { startTestBroker } from "../edge/src/uplink/test-broker.ts";
import { createSimCenter, type SimCenter } from "../firmware-sim/src/center.ts";
import { edgeConfigFragment } from "../firmware-sim/src/cli.ts";
import { readGroundTruth } from "../firmware-sim/src/ground-truth.ts";
import { defaultLayout } from "../firmware-sim/src/layout.ts";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import type { HazriEvent } from "../protocol/events.ts";
import { toRanges } from "../protocol/messages.ts";
import { topics } from "../protocol/topics.ts";
import { freePort, makeTempDir, removeDir, waitFor } from "./harness/index.ts";

const CENTER = "tas-01";
let dir: string;
let broker: Awaited<ReturnType<typeof startTestBroker>>;
let server: MqttClient;
let agent: EdgeAgent;
let sim: SimCenter;
let lanUrl: string;
const received: HazriEvent[] = [];
const seatStates = (seat: string) => received.flatMap((e) => (e.type === "seat" && e.seat === seat ? [e.state] : []));

beforeAll(async () => {
  dir = await makeTempDir("sim-tasmota");
  broker = await startTestBroker();
  server = await mqtt.connectAsync(broker.url, { clientId: "fake-server" });
  await server.subscribeAsync(topics.allUp("events"), { qos: 1 });
  server.on("message", (_t, payload) => {
    const b = JSON.parse(payload.toString()) as { events: HazriEvent[] };
    received.push(...b.events);
    server.publish(topics.down(CENTER, "ack"), JSON.stringify({ v: 1, centerId: CENTER, acked: toRanges(b.events.map((e) => e.seq)), rejected: [], serverTime: Date.now() }), { qos: 1 });
  });
  const layout = defaultLayout(CENTER, 5, { seats: 1, members: 5 });
  layout.seats.push(
    { id: "t01", zone: "quiet", node: "tasmota_desk1", object: "POWER", convention: "tasmota" },
    { id: "t02", zone: "quiet", node: "tasmota_desk2", object: "Switch1", convention: "tasmota", telePeriodMs: 400 },
  );
  sim = await createSimCenter({ centerId: CENTER, dir: path.join(dir, "sim"), seed: 5, ...layout, power: [] });
  const membersFile = path.join(dir, "members.json");
  await writeFile(membersFile, JSON.stringify({ members: layout.members }));
  const lanPort = await freePort();
  lanUrl = `mqtt://127.0.0.1:${lanPort}`;
  const frag = edgeConfigFragment(sim, membersFile);
  expect(frag.seats.filter((s) => "convention" in s)).toEqual([
    { id: "t01", zone: "quiet", node: "tasmota_desk1", object: "POWER", convention: "tasmota" },
    { id: "t02", zone: "quiet", node: "tasmota_desk2", object: "Switch1", convention: "tasmota" },
  ]);
  const config = parseEdgeConfig({ ...frag, dataDir: path.join(dir, "edge"), uplink: { url: broker.url, heartbeatS: 3600 }, lan: { host: "127.0.0.1", port: lanPort } }, dir);
  agent = await createEdgeAgent(config, { logger: silentLogger, clock: systemClock });
  await agent.start();
  await sim.connectSeats(lanUrl);
});

afterAll(async () => {
  await sim?.stop();
  await agent?.stop();
  await server?.endAsync();
  await broker?.close();
  if (dir) await removeDir(dir);
});

describe("Tasmota seats through the edge's LAN broker (real agent)", () => {
  it("stat POWER and tele SENSOR drive seat events; LWT Offline → unknown; back Online → the state again; ESPHome alongside", async () => {
    const tas = sim.devices.seats.t01!;
    expect([tas.statusTopic, tas.stateTopic, tas.dialect.clientId]).toEqual(["tele/tasmota_desk1/LWT", "stat/tasmota_desk1/POWER", expect.stringMatching(/^DVES_[0-9A-F]{6}$/)]);
    expect(sim.devices.seats.t02!.stateTopic).toBe("tele/tasmota_desk2/SENSOR");
    await sim.setSeat("t01", true);
    await sim.setSeat("t02", true);
    await sim.setSeat("s01", true);
    await waitFor(() => seatStates("t01").includes("occupied") && seatStates("t02").includes("occupied") && seatStates("s01").includes("occupied"), { timeoutMs: 20_000, what: `three occupied seats (have ${JSON.stringify(received.filter((e) => e.type === "seat"))})` });
    await sim.setSeat("t01", false);
    await waitFor(() => seatStates("t01").at(-1) === "vacant", { timeoutMs: 10_000, what: "t01 vacant" });
    await sim.seatOffline("t01"); // power cut: the broker publishes tele/<topic>/LWT Offline
    await waitFor(() => seatStates("t01").at(-1) === "unknown", { timeoutMs: 10_000, what: "t01 unknown via the Tasmota LWT" });
    await sim.seatOnline("t01");
    await waitFor(() => seatStates("t01").at(-1) === "vacant", { timeoutMs: 10_000, what: "t01 back, state republished" });
    expect(seatStates("t01")).toEqual(["occupied", "vacant", "unknown", "vacant"]);
    // TelePeriod repeats (400 ms here) are the same state: no new events.
    const n = seatStates("t02").length;
    const teleSeen = sim.devices.seats.t02!;
    await new Promise<void>((resolve) => {
      // Watch the LAN broker for two tele/SENSOR repeats before counting.
      const watcher = mqtt.connect(lanUrl, { clientId: "watcher" });
      let seen = 0;
      watcher.on("connect", () => void watcher.subscribe(teleSeen.stateTopic));
      watcher.on("message", () => {
        if (++seen === 2) watcher.end(true, {}, () => resolve());
      });
    });
    expect(seatStates("t02")).toHaveLength(n);
    // Ground truth: every seat change the sim published for a Tasmota seat is one edge event, in order.
    const truth = readGroundTruth(sim.groundTruth.file).flatMap((r) => (r.kind === "seat" && r.published && r.seat.startsWith("t") ? [`${r.seat}:${r.occupied ? "occupied" : "vacant"}`] : []));
    const edge = received.flatMap((e) => (e.type === "seat" && e.seat.startsWith("t") && e.state !== "unknown" ? [`${e.seat}:${e.state}`] : []));
    expect(truth).toEqual(["t01:occupied", "t02:occupied", "t01:vacant"]);
    // The edge saw exactly those, then the state t01 republished on reconnect (after its unknown).
    expect(edge).toEqual([...truth, "t01:vacant"]);
    expect(agent.status().uplink).toBe("up");
  });
});
