/**
 * Issue 4 scenarios on real components: a simulated center (RDM6300 readers,
 * LCUS relay on socat ptys, ESPHome seat sensors) with a real edge agent whose
 * uplink goes through the net-proxy to the real server (embedded aedes +
 * InfluxDB 1.6.7). The scenario cuts the WAN (runScenario → NetProxy.cut),
 * keeps badging and sitting down while the edge is offline, restores it, and
 * then compareWithInflux(ground truth, InfluxDB rows) must find nothing lost,
 * duplicated, misordered or wrong — including the uplink's own down/up ledger.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import { createEdgeAgent, type EdgeAgent } from "../edge/src/agent.ts";
import { parseEdgeConfig } from "../edge/src/config.ts";
import { createSimCenter, type SimCenter } from "../firmware-sim/src/center.ts";
import { startNetProxy, type NetProxy } from "../firmware-sim/src/faults/net-proxy.ts";
import { readGroundTruth } from "../firmware-sim/src/ground-truth.ts";
import { defaultLayout } from "../firmware-sim/src/layout.ts";
import { compareWithInflux, tagRows } from "../firmware-sim/src/scenario-compare.ts";
import { runScenario, type ScenarioStep } from "../firmware-sim/src/scenario-run.ts";
import { startServer, type RunningServer } from "../server/src/server.ts";
import { freePort, makeTempDir, removeDir, seriesRows, startInfluxd, waitFor, type InfluxInstance } from "./harness/index.ts";

const CENTER = "khi-07";
const DB = "hazri_scn";
let dir: string;
let influx: InfluxInstance;
let server: RunningServer;
let proxy: NetProxy;
let sim: SimCenter;
let edge: EdgeAgent;

beforeAll(async () => {
  dir = await makeTempDir("sim-scenario");
  influx = await startInfluxd({});
  server = await startServer(
    {
      http: { host: "127.0.0.1", port: await freePort() },
      broker: { embedded: { host: "127.0.0.1", port: await freePort() } },
      influx: { kind: "v1", url: influx.url, database: DB },
      live: { rebuild: false },
    },
    { logger: silentLogger, clock: systemClock },
  );
  const port = Number(new URL(server.brokerUrl).port);
  proxy = await startNetProxy({ target: { host: "127.0.0.1", port } });

  const layout = defaultLayout(CENTER, 17, { seats: 4, members: 20 });
  sim = await createSimCenter({ centerId: CENTER, dir: path.join(dir, "dev"), seed: 17, ...layout });
  const membersFile = path.join(dir, "members.json");
  await writeFile(membersFile, JSON.stringify({ members: layout.members }));
  const lanPort = await freePort();
  const cfg = parseEdgeConfig(
    {
      center: CENTER,
      dataDir: path.join(dir, "edge-data"),
      // The edge talks to the proxy, never to the broker directly: that is the WAN the scenario cuts.
      uplink: { url: proxy.url, resendAfterMs: 2000, heartbeatS: 3600, keepaliveS: 2 },
      lan: { host: "127.0.0.1", port: lanPort },
      members: membersFile,
      doors: layout.doors.map((d) => ({ id: d.id, relay: { path: sim.devices.relays[d.id]!.hostPath, channel: d.channel } })),
      readers: layout.readers.map((r) => ({ id: r.id, type: "rdm6300", door: r.door, direction: r.direction, path: sim.devices.readers[r.id]!.hostPath })),
      seats: layout.seats.map((s) => ({ id: s.id, zone: s.zone, node: s.node, object: s.object })),
    },
    dir,
  );
  edge = await createEdgeAgent(cfg, { logger: silentLogger, clock: systemClock });
  await edge.start();
  await sim.connectSeats(`mqtt://127.0.0.1:${lanPort}`);
  await waitFor(() => edge.status().uplink === "up", { timeoutMs: 20_000, what: "edge uplink up through the proxy" });
});

afterAll(async () => {
  await sim?.stop();
  await edge?.stop();
  await proxy?.close();
  await server?.close();
  await influx?.stop();
  if (dir) await removeDir(dir);
});

async function rows(measurement: "access" | "seat" | "uplink") {
  const q = `SELECT * FROM ${measurement} WHERE center = '${CENTER}'`;
  return tagRows(measurement, seriesRows(await influx.query(q, DB, { epoch: "ms" })));
}

const cardsOf = () => sim.config.members.filter((m) => m.status === "active" && !m.validUntil).map((m) => m.cards[0]!);

describe("a WAN drop mid-day through the net-proxy, with a real edge", () => {
  it("the edge loses the broker, keeps capturing, reconnects on restore; InfluxDB matches the ground truth exactly", async () => {
    const layout = sim.config;
    const cards = layout.members.filter((m) => m.status === "active" && !m.validUntil).map((m) => m.cards[0]!);
    const tapAt = (at: number, i: number): ScenarioStep => ({ at, kind: "tap", reader: i % 2 ? "main-out" : "main-in", cardId: cards[i % cards.length]!, category: "valid" });
    // Real-time plan (speed 1): taps every 700 ms (> the reader's 500 ms presentation timeout, §1.3).
    const plan: ScenarioStep[] = [
      tapAt(0, 0),
      tapAt(700, 1),
      { at: 1000, kind: "seat", seat: "s01", occupied: true },
      { at: 1500, kind: "internet", up: false, cause: "drop" },
      tapAt(2200, 2),
      tapAt(2900, 3),
      { at: 3000, kind: "seat", seat: "s02", occupied: true },
      tapAt(3600, 4),
      { at: 4500, kind: "internet", up: true, cause: "restore" },
      tapAt(5200, 5),
      { at: 5500, kind: "seat", seat: "s01", occupied: false },
    ];
    let offlineSeen = false;
    const summary = await runScenario(plan, {
      center: sim,
      internet: proxy,
      onStep: (s) => {
        if (s.kind === "tap" && s.at === 2900) offlineSeen = edge.status().uplink === "down";
      },
    });
    expect(summary.errors).toEqual([]);
    expect(summary.executed).toBe(plan.length);
    // While the proxy was cut the edge knew it was offline (RST seen at once) and held its events.
    expect(offlineSeen).toBe(true);
    expect(proxy.stats().cuts).toBe(1);

    const gt = readGroundTruth(sim.groundTruth.file);
    const truthTaps = gt.filter((r) => r.kind === "tap" && r.delivered).length;
    expect(truthTaps).toBe(6);
    await waitFor(
      async () => (await rows("access")).length >= truthTaps && (await rows("seat")).length >= 3 && (await rows("uplink")).length >= 3,
      { timeoutMs: 30_000, what: "every tap, seat change and uplink transition in InfluxDB" },
    );
    await waitFor(() => edge.status().outboxDepth === 0, { timeoutMs: 15_000, what: "edge outbox drained" });

    const all = [...(await rows("access")), ...(await rows("seat")), ...(await rows("uplink"))];
    // Uplink rows: the first "up" at start-up has no scenario truth; compare from the cut on.
    const cutAt = gt.find((r) => r.kind === "internet")!.t;
    const observed = all.filter((r) => r.measurement !== "uplink" || (r.time as number) >= cutAt - 1000);
    const report = compareWithInflux(gt, observed);
    expect(report, JSON.stringify(report, null, 1)).toMatchObject({ lost: [], duplicated: [], misordered: [], wrong: [], ok: true });
    expect(report.matched).toBe(truthTaps + 3 + 2);
  });

  it("a black-holed link (open socket, bytes dropped): keepalive notices, nothing published into the hole is lost", async () => {
    const cards = cardsOf();
    const before = readGroundTruth(sim.groundTruth.file).length;
    const tapAt = (at: number, i: number): ScenarioStep => ({ at, kind: "tap", reader: i % 2 ? "main-out" : "main-in", cardId: cards[(i + 3) % cards.length]!, category: "valid" });
    // keepaliveS 2: MQTT.js gives up ~2 keepalives after the last answer, so the edge publishes into the hole first.
    const plan: ScenarioStep[] = [
      { at: 0, kind: "internet", up: false, cause: "drop" },
      tapAt(300, 0),
      { at: 600, kind: "seat", seat: "s03", occupied: true },
      tapAt(1000, 1),
      tapAt(5000, 2),
      { at: 8000, kind: "internet", up: true, cause: "restore" },
      tapAt(8700, 3),
    ];
    const summary = await runScenario(plan, { center: sim, internet: { cut: () => proxy.cut("blackhole"), restore: () => proxy.restore() } });
    expect(summary.errors).toEqual([]);
    expect(proxy.stats().bytesDropped).toBeGreaterThan(0); // something really went into the hole
    const gt = readGroundTruth(sim.groundTruth.file).slice(before);
    const taps = gt.filter((r) => r.kind === "tap" && r.delivered).length;
    expect(taps).toBe(4);
    await waitFor(() => edge.status().uplink === "up" && edge.status().outboxDepth === 0, { timeoutMs: 30_000, what: "edge reconnected and drained" });
    // The edge stamps an event after the sim made it, so this scenario's rows are all at/after the cut; earlier ones are not its.
    const from = gt.find((r) => r.kind === "internet")!.t;
    const all = (await Promise.all([rows("access"), rows("seat"), rows("uplink")])).flat().filter((r) => (r.time as number) >= from);
    const report = compareWithInflux(gt, all);
    expect(report, JSON.stringify(report, null, 1)).toMatchObject({ lost: [], duplicated: [], misordered: [], wrong: [], ok: true });
    expect(report.matched).toBe(taps + 1 + 2);
  });
});
