/**
 * Issue 3 "Done when": a long WAN outage with doors in constant use. The real `hazri edge` process on
 * socat ptys driven by the simulator (four RDM6300 readers on two doors with LCUS relays, four ESPHome
 * seat sensors on the edge's LAN broker), the real server (embedded aedes, ingest to a private
 * InfluxDB 1.6.7) behind the firmware-sim net-proxy as the WAN. The WAN is cut for 90 s of real time
 * while cards are tapped ten times a second and seats change; then restored. Afterwards:
 *  - compareWithInflux(ground truth, InfluxDB): no tap, seat change or uplink transition lost,
 *    duplicated, misordered or wrong;
 *  - counted by seq over every measurement: each seq the edge allocated is in InfluxDB exactly once
 *    (except the few recorded at its clean stop, still in its outbox), and InfluxDB's time order is
 *    seq order.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import { MEASUREMENTS } from "../protocol/influx.ts";
import { createSimCenter, type SimCenter } from "../firmware-sim/src/center.ts";
import { startNetProxy, type NetProxy } from "../firmware-sim/src/faults/net-proxy.ts";
import { readGroundTruth } from "../firmware-sim/src/ground-truth.ts";
import { defaultLayout } from "../firmware-sim/src/layout.ts";
import { compareWithInflux, tagRows } from "../firmware-sim/src/scenario-compare.ts";
import { runScenario, type ScenarioStep } from "../firmware-sim/src/scenario-run.ts";
import { startServer, type RunningServer } from "../server/src/server.ts";
import { freePort, makeTempDir, removeDir, seriesRows, spawnManaged, startInfluxd, waitFor, type InfluxInstance, type ManagedProcess } from "./harness/index.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const CENTER = "mul-04";
const DB = "hazri_outage";
const OUTAGE_MS = 90_000;
const CUT_AT = 5_000;
const TAIL_MS = 8_000;
const TAP_EVERY_MS = 100; // round-robin over 4 readers: each reader every 400 ms (> hold 300 + margin 50)
let dir: string;
let influx: InfluxInstance;
let server: RunningServer;
let proxy: NetProxy;
let sim: SimCenter;
let edge: ManagedProcess;
let httpPort: number;

const status = async () => {
  const r = await fetch(`http://127.0.0.1:${httpPort}/api/status`);
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return (await r.json()) as Record<string, any>;
};

beforeAll(async () => {
  dir = await makeTempDir("edge-long-outage");
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
  proxy = await startNetProxy({ target: { host: "127.0.0.1", port: Number(new URL(server.brokerUrl).port) } });

  // 80 members: the same card comes back to the same reader only every ≥ 10 s, beyond the 5 s window
  // compareWithInflux matches a row to its tap in (so a duplicate it reports is a real one).
  const base = defaultLayout(CENTER, 41, { seats: 4, members: 80 });
  const layout = {
    ...base,
    readers: [
      { id: "main-in", door: "main", direction: "in" as const },
      { id: "main-out", door: "main", direction: "out" as const },
      { id: "side-in", door: "side", direction: "in" as const },
      { id: "side-out", door: "side", direction: "out" as const },
    ],
    doors: [
      { id: "main", channel: 1 },
      { id: "side", channel: 1 },
    ],
    power: [],
  };
  sim = await createSimCenter({ centerId: CENTER, dir: path.join(dir, "dev"), seed: 41, ...layout });
  writeFileSync(path.join(dir, "members.json"), JSON.stringify({ members: layout.members }));
  const lanPort = await freePort();
  httpPort = await freePort();
  const q = JSON.stringify;
  writeFileSync(
    path.join(dir, "center.yaml"),
    [
      `center: ${CENTER}`,
      "dataDir: ./edge-data",
      // The edge talks to the proxy, never to the broker directly: that is the WAN the test cuts.
      `uplink: { url: ${q(proxy.url)}, heartbeatS: 10, keepaliveS: 5 }`,
      `lan: { host: 127.0.0.1, port: ${lanPort}, http: { host: 127.0.0.1, port: ${httpPort}, recentEvents: 10 } }`,
      "members: ./members.json",
      "doors:",
      ...layout.doors.map((d) => `  - { id: ${d.id}, relay: { path: ${q(sim.devices.relays[d.id]!.hostPath)}, channel: ${d.channel} }, unlockMs: 1000 }`),
      "readers:",
      ...layout.readers.map((r) => `  - { id: ${r.id}, type: rdm6300, door: ${r.door}, direction: ${r.direction}, path: ${q(sim.devices.readers[r.id]!.hostPath)} }`),
      "seats:",
      ...layout.seats.map((s) => `  - { id: ${s.id}, zone: ${s.zone}, node: ${s.node}, object: ${s.object} }`),
      "",
    ].join("\n"),
  );
  edge = await spawnManaged(process.execPath, ["--import", "tsx", path.join(ROOT, "edge/src/cli.ts"), "edge", "--config", path.join(dir, "center.yaml")], { name: "edge-outage", cwd: ROOT });
  await waitFor(async () => {
    const s = await status().catch(() => null);
    return s && s.uplink.state === "up" && layout.readers.every((r) => s.devices[r.id] === "ok") && s.devices.main === "ok" && s.devices.side === "ok" ? s : undefined;
  }, { timeoutMs: 60_000, what: `edge up with every pty open and the uplink connected (log: ${edge.logTail(8)})` });
  await sim.connectSeats(`mqtt://127.0.0.1:${lanPort}`);
}, 180_000);

afterAll(async () => {
  await sim?.stop();
  await edge?.stop("SIGTERM", 20_000);
  await proxy?.close();
  await server?.close();
  await influx?.stop();
  if (dir) await removeDir(dir);
});

const query = async (m: string) => seriesRows(await influx.query(`SELECT * FROM ${m} WHERE center = '${CENTER}'`, DB, { epoch: "ms" }));

describe("a 90 s WAN outage with doors in constant use, real hazri edge", () => {
  it("every event reaches InfluxDB exactly once and in seq order", async () => {
    // Every member at the in-readers (grants and denials: suspended, expired); at the out-readers only
    // valid members, because the edge grants ANY known card going out (egress never traps a person,
    // edge/README.md) while the simulator's expectation applies the in-rules to both directions.
    const all = sim.config.members.map((m) => m.cards[0]!);
    const valid = sim.config.members.filter((m) => m.status === "active" && !m.validUntil).map((m) => m.cards[0]!);
    const readers = sim.config.readers;
    const end = CUT_AT + OUTAGE_MS + TAIL_MS;
    const plan: ScenarioStep[] = [];
    for (let i = 0, at = 0; at < end; i++, at += TAP_EVERY_MS) {
      const r = readers[i % readers.length]!;
      const pool = r.direction === "in" ? all : valid;
      plan.push({ at, kind: "tap", reader: r.id, cardId: pool[Math.floor(i / readers.length) % pool.length]!, category: "valid" });
    }
    for (let k = 0, at = 700; at < end; k++, at += 1900) plan.push({ at, kind: "seat", seat: `s0${(k % 4) + 1}`, occupied: Math.floor(k / 4) % 2 === 0 });
    plan.push({ at: CUT_AT, kind: "internet", up: false, cause: "drop" }, { at: CUT_AT + OUTAGE_MS, kind: "internet", up: true, cause: "restore" });
    plan.sort((a, b) => a.at - b.at);

    let maxDepth = 0;
    let downSeen = false;
    const watch = setInterval(() => {
      status().then(
        (s) => {
          maxDepth = Math.max(maxDepth, s.outbox.depth);
          if (s.uplink.state === "down") downSeen = true;
        },
        () => undefined,
      );
    }, 1000);
    // Quick swipes (one frame each, hold 50 ms < the 100 ms repeat): with held cards, a simulator stalled
    // > 500 ms between two repeat frames on a loaded box makes the edge see the card leave and come back,
    // a second presentation the ground truth does not have (observed once). A swipe cannot be split.
    const swiping: SimCenter = Object.create(sim, { tap: { value: (reader: string, card: string, o: object = {}) => sim.tap(reader, card, { ...o, holdMs: 50 }) } });
    const summary = await runScenario(plan, { center: swiping, internet: proxy }).finally(() => clearInterval(watch));
    expect(summary.errors).toEqual([]);
    expect(summary.skippedBusy).toBe(0);
    expect(proxy.stats().cuts).toBe(1);
    expect(downSeen).toBe(true);

    const gt = readGroundTruth(sim.groundTruth.file);
    const taps = gt.filter((r) => r.kind === "tap" && r.delivered).length;
    const seats = gt.filter((r) => r.kind === "seat" && r.published).length;
    const cutAt = gt.find((r) => r.kind === "internet")!.t;
    const restoreAt = gt.filter((r) => r.kind === "internet").at(-1)!.t;
    const tapsInOutage = gt.filter((r) => r.kind === "tap" && r.delivered && r.t > cutAt && r.t < restoreAt).length;
    expect(tapsInOutage).toBeGreaterThan(500); // ~900 at 10/s: the doors really were in use during the outage
    const validCount = valid.length;
    expect(validCount * readers.length * TAP_EVERY_MS).toBeGreaterThan(10_000);

    await waitFor(async () => (await status()).outbox.depth === 0 && (await status()).uplink.state === "up" || undefined, {
      timeoutMs: 180_000,
      intervalMs: 500,
      what: `edge drained after the restore (log: ${edge.logTail(5)})`,
    });
    await waitFor(async () => (await query("access")).length >= taps || undefined, { timeoutMs: 60_000, intervalMs: 500, what: `${taps} access rows` });

    // 1. Against the ground truth.
    const rows = [
      ...tagRows("access", await query("access")),
      ...tagRows("seat", await query("seat")),
      // the first "up" at start-up has no scenario truth: compare the uplink from the cut on
      ...tagRows("uplink", await query("uplink")).filter((r) => (r.time as number) >= cutAt - 1000),
    ];
    const report = compareWithInflux(gt, rows);
    const brief = { lost: report.lost.slice(0, 5), duplicated: report.duplicated.slice(0, 5), misordered: report.misordered.slice(0, 5), wrong: report.wrong.slice(0, 5) };
    expect(report, JSON.stringify({ counts: [report.lost.length, report.duplicated.length, report.misordered.length, report.wrong.length], ...brief }, null, 1)).toMatchObject({ lost: [], duplicated: [], misordered: [], wrong: [], ok: true });
    expect(report.matched).toBe(taps + seats + 2);

    // 2. Counted by seq over every measurement, against the edge's own outbox after a clean stop.
    await edge.stop("SIGTERM", 20_000);
    expect((await edge.exited).code).toBe(0);
    const db = new Database(path.join(dir, "edge-data", "outbox.sqlite"), { readonly: true });
    const lastSeq = Number((db.prepare("SELECT value FROM meta WHERE key = 'next_seq'").get() as { value: string }).value) - 1;
    const coalesced = Number((db.prepare("SELECT value FROM meta WHERE key = 'coalesced'").get() as { value: string }).value);
    const left = new Set((db.prepare("SELECT seq FROM outbox").all() as { seq: number }[]).map((r) => r.seq));
    const dead = (db.prepare("SELECT COUNT(*) AS n FROM dead_letter").get() as { n: number }).n;
    db.close();
    expect([coalesced, dead]).toEqual([0, 0]);
    const points: { seq: number; time: number; m: string }[] = [];
    for (const m of new Set(Object.values(MEASUREMENTS))) for (const r of await query(m)) points.push({ seq: r.seq as number, time: r.time as number, m });
    const bySeq = new Map<number, number>();
    for (const p of points) bySeq.set(p.seq, (bySeq.get(p.seq) ?? 0) + 1);
    const twice = [...bySeq].filter(([, n]) => n > 1).map(([s]) => s);
    const missing: number[] = [];
    for (let s = 1; s <= lastSeq; s++) if (!bySeq.has(s) && !left.has(s)) missing.push(s);
    const unknown = [...bySeq.keys()].filter((s) => s < 1 || s > lastSeq);
    console.log(
      `long outage: ${taps} taps (${tapsInOutage} during the ${OUTAGE_MS / 1000} s cut), ${seats} seat changes, ${lastSeq} events, ` +
        `max outbox depth ${maxDepth}, ${left.size} recorded at the stop and still queued, ${points.length} points in InfluxDB`,
    );
    expect({ twice, missing, unknown }).toEqual({ twice: [], missing: [], unknown: [] });
    expect(left.size).toBeLessThanOrEqual(10); // only what the clean stop itself recorded (locks, a last heartbeat)
    expect(maxDepth).toBeGreaterThan(tapsInOutage / 2); // sampled once a second: the backlog really built up
    // InfluxDB's time order is seq order (ms time; the sub-ms part of the point key carries the seq).
    const byTime = [...points].sort((a, b) => a.time - b.time || a.seq - b.seq);
    const inversions = byTime.filter((p, i) => i > 0 && p.seq < byTime[i - 1]!.seq).map((p) => `${p.m}#${p.seq}@${p.time}`);
    expect(inversions).toEqual([]);
  }, 600_000);
});
