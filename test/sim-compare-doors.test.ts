/**
 * compareWithInflux for door contacts and radar seats, on what a real edge
 * agent made of the simulator's devices: a grant (RDM6300 tap → LCUS relay →
 * the member walks through the reed-switch door), a forced opening, a door
 * propped open past the edge's held-open limit, and a person sitting down in
 * front of an LD2410 radar. The edge's events become rows through the
 * protocol's own InfluxDB mapping (eventToPoint: what the server writes), and
 * the comparison with the ground truth must find nothing lost, duplicated,
 * misordered or wrong — and must find it when a row is removed.
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
import { compareWithInflux, type InfluxRow } from "../firmware-sim/src/scenario-compare.ts";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import type { HazriEvent } from "../protocol/events.ts";
import { eventToPoint } from "../protocol/influx.ts";
import { toRanges } from "../protocol/messages.ts";
import { topics } from "../protocol/topics.ts";
import { freePort, makeTempDir, removeDir, waitFor } from "./harness/index.ts";

const CENTER = "dor-01";
let dir: string;
let broker: Awaited<ReturnType<typeof startTestBroker>>;
let server: MqttClient;
let agent: EdgeAgent;
let sim: SimCenter;
const received: HazriEvent[] = [];
const doorStates = () => received.flatMap((e) => (e.type === "door" && e.door === "main" ? [e.state] : []));

/** An event as the row InfluxQL returns for its point (tags and fields as columns, `{int}` unwrapped). */
function toRow(e: HazriEvent): InfluxRow {
  const p = eventToPoint(e);
  const fields = Object.fromEntries(Object.entries(p.fields).map(([k, v]) => [k, typeof v === "object" ? v.int : v]));
  return { ...p.tags, ...fields, time: e.ts, measurement: p.measurement as InfluxRow["measurement"] };
}

beforeAll(async () => {
  dir = await makeTempDir("sim-compare-doors");
  broker = await startTestBroker();
  server = await mqtt.connectAsync(broker.url, { clientId: "fake-server" });
  await server.subscribeAsync(topics.allUp("events"), { qos: 1 });
  server.on("message", (_t, payload) => {
    const b = JSON.parse(payload.toString()) as { events: HazriEvent[] };
    received.push(...b.events);
    server.publish(topics.down(CENTER, "ack"), JSON.stringify({ v: 1, centerId: CENTER, acked: toRanges(b.events.map((e) => e.seq)), rejected: [], serverTime: Date.now() }), { qos: 1 });
  });
  const layout = defaultLayout(CENTER, 8, { seats: 0, members: 10, devices: "full" });
  sim = await createSimCenter({ centerId: CENTER, dir: path.join(dir, "sim"), seed: 8, ...layout, power: [] });
  const membersFile = path.join(dir, "members.json");
  await writeFile(membersFile, JSON.stringify({ members: layout.members }));
  const frag = edgeConfigFragment(sim, membersFile);
  const doors = frag.doors.map((d) => (d.id === "main" ? { ...d, heldOpenS: 4 } : d)); // a 4 s held-open limit: the 2 s walk-through stays clear of it
  const config = parseEdgeConfig({ ...frag, doors, dataDir: path.join(dir, "edge"), uplink: { url: broker.url, heartbeatS: 3600 }, lan: { host: "127.0.0.1", port: await freePort() } }, dir);
  agent = await createEdgeAgent(config, { logger: silentLogger, clock: systemClock, serialBackoff: { initialMs: 100, maxMs: 1000 } });
  await agent.start();
  await waitFor(() => ["main", "main-contact", "r01"].every((d) => agent.status().devices[d] === "ok"), { timeoutMs: 20_000, what: `devices ok (${JSON.stringify(agent.status().devices)})` });
  await waitFor(() => doorStates().includes("closed"), { timeoutMs: 15_000, what: "the contact's level reported" });
});

afterAll(async () => {
  await sim?.stop();
  await agent?.stop();
  await server?.endAsync();
  await broker?.close();
  if (dir) await removeDir(dir);
});

describe("door contacts and radar seats: ground truth vs the edge's rows", () => {
  it("grant + walk-through, forced opening, held open, radar presence: nothing lost, duplicated, misordered or wrong", async () => {
    const card = sim.config.members.find((m) => m.status === "active" && !m.validUntil)!.cards[0]!;
    const contact = sim.devices.contacts.main!.contact;
    const tap = await sim.tap("main-in", card);
    expect(tap.expected).toBe("granted");
    await waitFor(() => doorStates().includes("locked"), { timeoutMs: 20_000, what: "grant → walk → relock" });
    // Past the edge's authorised window (unlockMs 3000 + graceMs 2000) since the last relay ON.
    const lastOn = readGroundTruth(sim.groundTruth.file).filter((r) => r.kind === "relay" && r.on).at(-1)!.t;
    await waitFor(() => Date.now() > lastOn + 7000, { timeoutMs: 15_000, what: "the grant window to pass" });
    await contact.forceOpen(1000);
    await waitFor(() => doorStates().filter((s) => s === "forced_open").length === 1, { timeoutMs: 10_000, what: "forced_open" });
    await contact.holdOpen(6000); // past heldOpenS 4 (and no grant: forced too)
    await waitFor(() => doorStates().includes("held_open") && doorStates().at(-1) === "closed", { timeoutMs: 15_000, what: "held_open and closed" });
    await sim.setSeat("r01", true);
    await waitFor(() => received.some((e) => e.type === "seat" && e.seat === "r01" && e.state === "occupied"), { timeoutMs: 10_000, what: "radar seat occupied" });
    await sim.setSeat("r01", false);
    const r01 = () => received.flatMap((e) => (e.type === "seat" && e.seat === "r01" ? [e.state] : []));
    await waitFor(() => r01().at(-1) === "vacant" && r01().includes("occupied"), { timeoutMs: 10_000, what: "radar seat vacant again" });

    const truth = readGroundTruth(sim.groundTruth.file);
    // The edge's rows of the main door and radar r01, from its start (its first "closed" / "vacant" restate the true level).
    const rows = received.filter((e) => (e.type === "door" && e.door === "main") || (e.type === "seat" && e.seat === "r01")).map(toRow);
    const opts = { kinds: ["door" as const, "seat" as const], door: { authorisedMs: 5000, heldOpenMs: 4000 } };
    const report = compareWithInflux(truth, rows, opts);
    expect(report, JSON.stringify({ report, rows, truth: truth.filter((r) => ["door", "relay", "radar"].includes(r.kind)) }, null, 1)).toMatchObject({ lost: [], duplicated: [], misordered: [], wrong: [], ok: true });
    expect(report.restated.length).toBeGreaterThan(0);
    // unlocked, opened, closed, locked; opened + forced_open, closed; opened + forced_open + held_open, closed; occupied, vacant
    expect(report.matched).toBe(13);
    // The comparison sees a missing alarm.
    expect(compareWithInflux(truth, rows.filter((r) => r.state !== "forced_open"), opts).lost.map((l) => l.key)).toEqual(["alarm/main", "alarm/main"]);
  }, 90_000);
});
