/**
 * The SLA report against the SIMULATOR's ground truth, on real components end
 * to end (issue 6 "Correctness"): a simulated center (Megatec Q1 UPS and
 * Voltronic QPIGS inverter on socat ptys, RDM6300 readers, ESPHome seats), the
 * real edge agent as a `hazri edge` process whose uplink goes through the
 * firmware-sim net-proxy (the WAN the scenario cuts), the real server
 * (startServer: embedded broker, ingest) and InfluxDB 1.6.7.
 *
 * A compressed operating window of ~4.5 minutes (real time):
 *   +15 s  mains cut: the UPS carries the load (battery)
 *   +30 s  WAN drop, overlapping the power cut
 *   +45 s  low battery; +60 s battery empty (workspace without power; the edge has its own supply)
 *   +75 s  mains back; +90 s WAN back
 *   +100 s the edge process is SIGKILLed ("edge dark") and restarted 45 s later
 *   +200 s..+230 s a declared closure, with a WAN drop inside it (+205..+220 s)
 *   +240 s mains cut again, generator at +248 s, mains at +258 s (no outage)
 *   +270 s end of the window
 * The report for that window (operating hours = the window; every other day of
 * the month a holiday) must match the truth computed from the simulator's
 * ground-truth file (power and internet records, true wall time) and the test's
 * own kill/restart instants (test/sla-truth.ts): every outage's start and end
 * within ±2 s, edge-dark periods included: they start at the previous run's
 * last alive mark (the restarted edge's `boot` event) and end at the boot.
 *
 * Availability: 0.01 percentage points of a 4.5-minute window is 27 ms, below
 * the 250 ms UPS poll and MQTT.js's 1 s reconnect period alone, so here the
 * check is on time: the up and down time each within 4.32 s of the truth, which
 * is 0.01 pp of a 12-hour operating day (the full-month scripted tests in
 * sla-influx.test.ts check 0.01 pp directly). The achieved difference in
 * percentage points of this window is printed.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { stringify as toYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import { createSimCenter } from "../firmware-sim/src/center.ts";
import { edgeConfigFragment } from "../firmware-sim/src/cli.ts";
import { startNetProxy, type NetProxy } from "../firmware-sim/src/faults/net-proxy.ts";
import { readGroundTruth, type GroundTruthRecord } from "../firmware-sim/src/ground-truth.ts";
import { defaultLayout } from "../firmware-sim/src/layout.ts";
import type { InternetAction, PowerAction } from "../firmware-sim/src/scenario-power.ts";
import { runScenario, type ScenarioStep } from "../firmware-sim/src/scenario-run.ts";
import { createInfluxAdapter, type InfluxAdapter } from "../server/src/influx/adapter.ts";
import { monthPeriod, PKT_OFFSET_MS, pktParts } from "../server/src/sla/calendar.ts";
import { parseSlaConfig, type SlaConfig } from "../server/src/sla/config.ts";
import { buildSlaReport, type CenterRow } from "../server/src/sla/report.ts";
import { startServer, type RunningServer } from "../server/src/server.ts";
import { freePort, makeTempDir, removeDir, seriesRows, spawnManaged, startInfluxd, waitFor, type InfluxInstance, type ManagedProcess } from "./harness/index.ts";
import { occupancyFromSim, truthFromSim, type OccupancyTruth, type SimTruth } from "./sla-truth.ts";
import { buildOccupancyReport } from "../server/src/sla/occupancy-report.ts";
import type { OccupancyReport } from "../server/src/sla/occupancy.ts";
import { pktDayStart } from "../server/src/sla/timelines.ts";

const CENTER = "sla-sim-01";
const DB = "hazri_sla_sim";
const HB_S = 10;
const HAZRI_BIN = path.resolve(import.meta.dirname, "..", "bin", "hazri.mjs");
const S = 1000;
/** Offsets (ms) from the opening of the operating window. */
const KILL_AT = 100 * S;
const RESTART_AT = 145 * S;
const CLOSURE = { from: 200 * S, to: 230 * S };
const END_AT = 270 * S;
/**
 * How much earlier than the kill an edge-dark period may start: the edge's boot event carries the previous
 * run's last alive mark (aliveMarkS 1 s), so within the ±2 s like every other edge. (By heartbeats alone it
 * was one heartbeat interval.)
 */
const DARK_START_SLACK = 0;

let dir: string;
let influx: InfluxInstance;
let server: RunningServer;
let proxy: NetProxy;
let sim: Awaited<ReturnType<typeof createSimCenter>>;
let adapter: InfluxAdapter;
let cfgFile: string;
let edge: ManagedProcess | null = null;
let runs = 0;
/** Ground truth of the window and what the test did to the edge. */
let open = 0;
let end = 0;
let edgeOff: { start: number; end: number } = { start: 0, end: 0 };
let gt: GroundTruthRecord[] = [];
let config: SlaConfig;
let row: CenterRow;
let truth: SimTruth;
let occupancy: OccupancyReport;
let occTruth: OccupancyTruth;

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
const pktIso = (t: number, withSeconds = false) => new Date(t + PKT_OFFSET_MS).toISOString().slice(0, withSeconds ? 19 : 16);

async function rows(q: string) {
  return seriesRows(await influx.query(q, DB, { epoch: "ms" }));
}

/** Start `hazri edge` and return the wall time its agent logged "edge agent starting" (pino `time`). */
async function startEdge(): Promise<number> {
  const logFile = path.join(dir, `edge-${++runs}.log`);
  const spawnedAt = Date.now();
  edge = await spawnManaged(process.execPath, [HAZRI_BIN, "edge", "--config", cfgFile], { name: `edge-${runs}`, logFile });
  const proc = edge;
  const startedAt = await waitFor(
    () => {
      if (proc.hasExited()) throw new Error(`edge exited at start: ${proc.logTail(20)}`);
      for (const line of readFileSync(logFile, "utf8").split("\n")) {
        if (!line.includes("edge agent starting")) continue;
        return (JSON.parse(line) as { time: number }).time;
      }
      return null;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: `edge-${runs} logs "edge agent starting"` },
  );
  // The log's own clock must be plausible: after we spawned it, not after we saw it.
  expect(startedAt).toBeGreaterThanOrEqual(spawnedAt);
  expect(startedAt).toBeLessThanOrEqual(Date.now());
  return startedAt;
}

beforeAll(async () => {
  dir = await makeTempDir("sla-sim");
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
  adapter = await createInfluxAdapter({ kind: "v1", url: influx.url, database: DB }, { logger: silentLogger });
  proxy = await startNetProxy({ target: { host: "127.0.0.1", port: Number(new URL(server.brokerUrl).port) } });
  const layout = defaultLayout(CENTER, 31, { seats: 3, members: 20 });
  sim = await createSimCenter({ centerId: CENTER, dir: path.join(dir, "dev"), seed: 31, ...layout });
  const membersFile = path.join(dir, "members.json");
  await writeFile(membersFile, JSON.stringify({ members: layout.members }));
  const frag = edgeConfigFragment(sim, membersFile);
  const lanPort = await freePort();
  cfgFile = path.join(dir, "center.yaml");
  await writeFile(
    cfgFile,
    toYaml({
      ...frag,
      // Poll fast: a power transition is seen within ~0.3 s of the plant changing.
      power: (frag.power ?? []).map((p) => ({ ...p, pollMs: 250, sampleMs: 0 })),
      dataDir: path.join(dir, "edge-data"),
      // Through the proxy: the WAN the scenario cuts. Same host clock as the simulator: trusted.
      uplink: { url: proxy.url, heartbeatS: HB_S, keepaliveS: 5, resendAfterMs: 2000 },
      lan: { host: "127.0.0.1", port: lanPort },
      trustedClock: true,
    }),
  );
  expect(Object.keys(sim.power.devices).sort()).toEqual(["inverter", "ups"]);
  await startEdge();
  await sim.connectSeats(`mqtt://127.0.0.1:${lanPort}`, 30_000);
  await waitFor(
    async () => {
      const up = await rows(`SELECT "state" FROM "uplink" WHERE "center" = '${CENTER}'`);
      const pw = await rows(`SELECT "source", "device" FROM "power" WHERE "center" = '${CENTER}' AND "source" = 'mains'`);
      return up.some((r) => r.state === "up") && new Set(pw.map((r) => r.device)).size === 2;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `edge up: uplink up and mains from both power devices in InfluxDB (${edge?.logTail(10)})` },
  );

  // The window opens at the next whole PKT minute (the weekly schedule is HH:MM), at least 5 s from now;
  // a window that would run into the next PKT month starts in that month instead.
  const minute = 60_000;
  open = Math.ceil((Date.now() + 5 * S) / minute) * minute;
  const monthEnd = monthPeriod(pktIso(open).slice(0, 7)).end;
  if (open + END_AT + 2 * minute > monthEnd) {
    console.log(`sla-sim: the window would cross the PKT month end at ${new Date(monthEnd).toISOString()}; starting it there`);
    open = monthEnd + minute;
  }
  end = open + END_AT;

  const t0 = Date.now();
  const at = (offset: number) => open + offset - t0;
  const power = (offset: number, source: PowerAction["source"], cause: PowerAction["cause"], chargePct: number): PowerAction => ({
    at: at(offset), kind: "power", source, cause, chargePct,
  });
  const net = (offset: number, up: boolean): InternetAction => ({ at: at(offset), kind: "internet", up, cause: up ? "restore" : "drop" });
  // People: A and B badge in, A and an unbadged person sit (a tailgating suspect), A leaves; after the
  // restart C badges in and never sits (a ghost check-in), someone sits for 10 s, B leaves.
  const [cardA, cardB, cardC] = sim.config.members.filter((m) => m.status === "active" && !m.validUntil).map((m) => m.cards[0]!);
  expect(cardC, "three active members in the layout").toBeDefined();
  const tap = (offset: number, reader: "main-in" | "main-out", cardId: string): ScenarioStep => ({ at: at(offset), kind: "tap", reader, cardId, category: "valid" });
  const seat = (offset: number, id: string, occupied: boolean): ScenarioStep => ({ at: at(offset), kind: "seat", seat: id, occupied });
  const before: ScenarioStep[] = [
    tap(5 * S, "main-in", cardA!),
    seat(8 * S, "s01", true),
    seat(12 * S, "s02", true),
    power(15 * S, "battery", "unscheduled_cut", 80),
    tap(20 * S, "main-in", cardB!),
    net(30 * S, false),
    seat(35 * S, "s02", false),
    power(45 * S, "low_battery", "low_battery", 15),
    seat(50 * S, "s01", false),
    tap(55 * S, "main-out", cardA!),
    power(60 * S, "down", "battery_empty", 0),
    power(75 * S, "mains", "mains_return", 0),
    net(90 * S, true),
  ];
  const s1 = await runScenario(before, { center: sim, internet: proxy });
  expect(s1.errors).toEqual([]);

  // Edge dark: SIGKILL (a crash or a power cut of the edge's own supply), restarted 45 s later.
  await sleepUntil(open + KILL_AT); // the scripted schedule, not a wait-then-assert
  const killedAt = Date.now();
  await edge!.kill9();
  await sleepUntil(open + RESTART_AT);
  const backAt = await startEdge();
  edgeOff = { start: killedAt, end: backAt };

  const t1 = Date.now();
  const at1 = (offset: number) => open + offset - t1;
  const after: ScenarioStep[] = [
    { at: at1(160 * S), kind: "tap", reader: "main-in", cardId: cardC!, category: "valid" },
    { at: at1(165 * S), kind: "seat", seat: "s03", occupied: true },
    { at: at1(175 * S), kind: "seat", seat: "s03", occupied: false },
    { at: at1(185 * S), kind: "tap", reader: "main-out", cardId: cardB!, category: "valid" },
    { at: at1(205 * S), kind: "internet", up: false, cause: "drop" },
    { at: at1(220 * S), kind: "internet", up: true, cause: "restore" },
    { at: at1(240 * S), kind: "power", source: "battery", cause: "unscheduled_cut", chargePct: 90 },
    { at: at1(248 * S), kind: "power", source: "generator", cause: "generator_start", chargePct: 89 },
    { at: at1(258 * S), kind: "power", source: "mains", cause: "mains_return", chargePct: 90 },
  ];
  const s2 = await runScenario(after, { center: sim, internet: proxy });
  expect(s2.errors).toEqual([]);
  await sleepUntil(end);

  // Everything the edge recorded up to the end is in InfluxDB: seqs 1..max without a hole, and a heartbeat after the end.
  await waitFor(
    async () => {
      const counts = await rows(`SELECT count("seq") FROM /.*/ WHERE "center" = '${CENTER}'`);
      const max = await rows(`SELECT max("seq") FROM /.*/ WHERE "center" = '${CENTER}'`);
      const n = counts.reduce((s, r) => s + Number(r.count ?? 0), 0);
      const top = Math.max(...max.map((r) => Number(r.max ?? 0)));
      const hb = await rows(`SELECT "seq" FROM "edge_heartbeat" WHERE "center" = '${CENTER}' AND time >= ${end}ms`);
      return n === top && hb.length > 0 ? { n, top } : null;
    },
    { timeoutMs: 90_000, intervalMs: 500, what: `every edge event up to the end in InfluxDB (${edge?.logTail(10)})` },
  );

  gt = readGroundTruth(sim.groundTruth.file).filter((r) => r.t >= open - 60 * S);
  const today = pktParts(open).date;
  const month = monthPeriod(today.slice(0, 7));
  const holidays: string[] = [];
  for (let d = month.start; d < month.end; d += 86_400_000) if (pktParts(d).date !== today) holidays.push(pktParts(d).date);
  const closeMinute = Math.ceil((end + 1) / minute) * minute;
  config = parseSlaConfig({
    targetPct: 99,
    heartbeatS: HB_S,
    keepaliveS: 5,
    // The edge reports power `unknown` for a poll (≤ 0.3 s) after its restart: real, but not an incident to list.
    minOutageS: 3,
    calendar: {
      weekly: Object.fromEntries(["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((d) => [d, [{ open: pktIso(open).slice(11), close: pktIso(closeMinute).slice(11) }]])),
      holidays,
      closures: [{ from: pktIso(open + CLOSURE.from, true), to: pktIso(open + CLOSURE.to, true), reason: "declared in the scenario" }],
    },
    centers: { [CENTER]: { name: "Simulated center", seats: Object.fromEntries(sim.config.seats.map((x) => [x.id, x.zone])) } },
    occupancy: { ghostAfterMin: 1, presenceMaxH: 1 },
  });
  const report = await buildSlaReport({ influx: adapter, clock: { now: () => end }, config }, { month: today.slice(0, 7), centers: "all" });
  row = report.centers.find((c) => c.centerId === CENTER)!;
  expect(row, "the center is in the league table").toBeDefined();
  occupancy = (await buildOccupancyReport({ influx: adapter, clock: { now: () => end }, config }, { month: today.slice(0, 7), centers: [CENTER] })).centers[0]!;
  occTruth = occupancyFromSim(gt, {
    operating: { start: open, end },
    seats: sim.config.seats.map((x) => x.id),
    presenceMaxMs: 3_600_000,
    ghostAfterMs: 60_000,
    day: { start: pktDayStart(open), end: pktDayStart(open) + 86_400_000 },
  });
  truth = truthFromSim({
    gt,
    operating: [{ start: open, end }],
    excluded: [{ start: open + CLOSURE.from, end: open + CLOSURE.to }],
    edgeOff: [edgeOff],
  });
}, 900_000);

afterAll(async () => {
  await edge?.stop("SIGTERM", 10_000);
  await sim?.stop();
  await proxy?.close();
  await adapter?.close();
  await server?.close();
  await influx?.stop();
  if (dir) await removeDir(dir);
});

const fmt = (o: { start: number; end: number; cause: string }) =>
  `${new Date(o.start).toISOString().slice(11, 23)}..${new Date(o.end).toISOString().slice(11, 23)} ${o.cause}`;

describe("SLA report vs the simulator's ground truth (real edge process, server, InfluxDB 1.6.7)", () => {
  it("the scenario is what it claims: every planned power and WAN transition is in the ground truth", () => {
    expect(gt.filter((r) => r.kind === "power" && r.t >= open).map((r) => (r as { source: string }).source)).toEqual([
      "battery", "low_battery", "down", "mains", "battery", "generator", "mains",
    ]);
    expect(gt.filter((r) => r.kind === "internet" && r.t >= open).map((r) => (r as { up: boolean }).up)).toEqual([false, true, false, true]);
    expect(new Set(truth.outages.map((o) => o.cause))).toEqual(new Set(["internet", "ups_exhausted", "edge_dark"]));
    expect(edgeOff.end - edgeOff.start).toBeGreaterThan(40 * S);
  });

  it("the restarted edge's boot event is in InfluxDB: a crash, last alive mark within 2 s before the SIGKILL", async () => {
    const boots = await rows(`SELECT "prev_alive_ts", "prev_end", "prev_boot", "boot" FROM "edge_boot" WHERE "center" = '${CENTER}'`);
    expect(boots).toHaveLength(2);
    const [first, second] = boots as [Record<string, unknown>, Record<string, unknown>];
    expect(first.prev_alive_ts).toBe(-1); // first start in a fresh data dir: nothing known
    expect(second).toMatchObject({ prev_end: "crash", prev_boot: first.boot });
    expect(Number(second.prev_alive_ts)).toBeGreaterThanOrEqual(edgeOff.start - 2 * S);
    expect(Number(second.prev_alive_ts)).toBeLessThanOrEqual(edgeOff.start);
    expect(Math.abs(Number(second.time) - edgeOff.end)).toBeLessThanOrEqual(2 * S);
  });

  it("every outage's start and end within ±2 s of the truth, edge dark included (boot event + alive mark)", () => {
    const got = row.outages.map((o) => ({ start: o.start, end: o.end, cause: o.cause, counted: o.counted }));
    const msg = `\n got ${got.map(fmt).join("\n     ")}\nwant ${truth.outages.map(fmt).join("\n     ")}`;
    console.log(`sla-sim outages (UTC):${msg}`);
    expect(got.map((o) => o.cause), msg).toEqual(truth.outages.map((o) => o.cause));
    truth.outages.forEach((w, i) => {
      const g = got[i]!;
      if (w.cause === "edge_dark") {
        expect(g.start, `start of ${fmt(w)} vs ${fmt(g)}`).toBeGreaterThanOrEqual(w.start - DARK_START_SLACK - 2 * S);
        expect(g.start, `start of ${fmt(w)} vs ${fmt(g)}`).toBeLessThanOrEqual(w.start + 2 * S);
      } else expect(Math.abs(g.start - w.start), `start of ${fmt(w)} vs ${fmt(g)}${msg}`).toBeLessThanOrEqual(2 * S);
      expect(Math.abs(g.end - w.end), `end of ${fmt(w)} vs ${fmt(g)}${msg}`).toBeLessThanOrEqual(2 * S);
      expect(g.counted).toBe(w.counted);
    });
    // The WAN drop inside the declared closure is listed, with all of it excluded.
    const inClosure = row.outages.find((o) => o.start >= open + CLOSURE.from - 2 * S && o.end <= open + CLOSURE.to + 2 * S)!;
    expect(inClosure.cause).toBe("internet");
    expect(inClosure.excludedMs).toBeGreaterThanOrEqual(inClosure.durationMs - 2 * S);
  });

  it("availability, with and without the closure, within the time equivalent of 0.01 pp of an operating day", () => {
    const dayBudget = 0.0001 * 12 * 3_600_000; // 4.32 s
    const pp = (a: number | null, b: number | null) => Math.abs((a ?? NaN) - (b ?? NaN));
    console.log(
      `sla-sim: availability excl. closure ${row.excluding.availabilityPct?.toFixed(3)}% vs truth ${truth.availabilityPct?.toFixed(3)}% ` +
        `(Δ ${pp(row.excluding.availabilityPct, truth.availabilityPct).toFixed(3)} pp of a ${(END_AT / 1000).toFixed(0)} s window); ` +
        `all ${row.all.availabilityPct?.toFixed(3)}% vs ${truth.availabilityAllPct?.toFixed(3)}%; ` +
        `up Δ ${((row.all.upMs - truth.all.upMs) / 1000).toFixed(2)} s, down Δ ${((row.all.downMs - truth.all.downMs) / 1000).toFixed(2)} s, ` +
        `unknown ${(row.all.unknownMs / 1000).toFixed(1)} s vs ${(truth.all.unknownMs / 1000).toFixed(1)} s`,
    );
    expect(row.all.operatingMs).toBe(END_AT);
    expect(row.excludedMs).toBe(CLOSURE.to - CLOSURE.from);
    for (const [g, w] of [[row.all, truth.all], [row.excluding, truth.kept]] as const) {
      // An early edge-dark start turns that much up time into unknown (none of it into down).
      expect(Math.abs(g.upMs - w.upMs), "up time").toBeLessThanOrEqual(dayBudget + DARK_START_SLACK);
      expect(Math.abs(g.downMs - w.downMs), "down time").toBeLessThanOrEqual(dayBudget);
    }
    // The power figures: battery time of both cuts, no power for the UPS-empty span (a UPS shows generator as mains).
    expect(Math.abs(row.all.power.downMs - truth.sourceMs.down)).toBeLessThanOrEqual(2 * 2 * S);
    expect(row.breaches).toContain("availability");
  });
});

describe("occupancy vs the simulator's ground truth (seats and badges through the real edge and server)", () => {
  it("the scenario did what it claims: 5 granted taps delivered, 6 seat changes published", () => {
    const taps = gt.filter((r) => r.kind === "tap" && r.t >= open);
    expect(taps.map((r) => (r as { expected: string; delivered: boolean }).expected)).toEqual(["granted", "granted", "granted", "granted", "granted"]);
    expect(taps.every((r) => (r as { delivered: boolean }).delivered)).toBe(true);
    expect(gt.filter((r) => r.kind === "seat" && r.t >= open && (r as { published: boolean }).published)).toHaveLength(6);
  });

  it("utilization, daily peaks and check-ins within the ±2 s of each change", () => {
    const changes = 6;
    console.log(
      `sla-sim occupancy: occupied seat-time ${(occupancy.occupiedSeatMs / 1000).toFixed(2)} s vs truth ${(occTruth.occupiedSeatMs / 1000).toFixed(2)} s; ` +
        `utilization ${occupancy.utilizationPct?.toFixed(3)}% vs ${occTruth.utilizationPct.toFixed(3)}%`,
    );
    expect(occupancy.seats).toBe(3);
    expect(occupancy.operatingMs).toBe(END_AT);
    expect(Math.abs(occupancy.occupiedSeatMs - occTruth.occupiedSeatMs)).toBeLessThanOrEqual(changes * 2 * S);
    expect(Math.abs(occupancy.utilizationPct! - occTruth.utilizationPct)).toBeLessThanOrEqual((100 * changes * 2 * S) / (3 * END_AT));
    const day = occupancy.daily.find((d) => d.date === pktParts(open).date)!;
    expect(day).toMatchObject({ peakSeats: occTruth.peakSeats, peakPeople: occTruth.peakPeople, checkIns: occTruth.checkIns });
    expect([occTruth.peakSeats, occTruth.peakPeople, occTruth.checkIns]).toEqual([2, 2, 3]);
    expect(Math.abs(day.peakSeatsAt! - occTruth.peakSeatsAt!)).toBeLessThanOrEqual(2 * S);
    expect(Math.abs(day.peakPeopleAt! - occTruth.peakPeopleAt!)).toBeLessThanOrEqual(2 * S);
  });

  it("tailgating and ghost check-ins: the same suspects as the truth, each within ±2 s", () => {
    expect(occTruth.tailgating.map((x) => x.seat)).toEqual(["s02"]);
    expect(occupancy.tailgating.map((x) => x.seat)).toEqual(occTruth.tailgating.map((x) => x.seat));
    occupancy.tailgating.forEach((x, i) => expect(Math.abs(x.t - occTruth.tailgating[i]!.t)).toBeLessThanOrEqual(2 * S));
    expect(occTruth.ghosts).toHaveLength(1);
    expect(occupancy.ghostCheckIns.map((g) => g.who)).toEqual(occTruth.ghosts.map((g) => `m:${g.member}`));
    occupancy.ghostCheckIns.forEach((g, i) => expect(Math.abs(g.t - occTruth.ghosts[i]!.t)).toBeLessThanOrEqual(2 * S));
  });
});
