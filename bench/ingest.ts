/**
 * End-to-end ingest vs the raw InfluxDB ceiling (issue 5 "Benchmarks"):
 *  (1) simulated edges → embedded aedes → `hazri server` (its own process) →
 *      InfluxDB 1.6.7, counted back in InfluxDB. Two drivers:
 *      - `--driver sim` (default): the simulator's scale mode
 *        (firmware-sim/src/scale/fleet.ts startScaleFleet: per-center event
 *        models, outbox window, acks, re-sends, heartbeats, retained status).
 *        It offers `--rate` events/s per center for `--duration` s — more than
 *        the server can take, so the outboxes fill — then stops generating and
 *        waits until every outbox is empty. Rate = acked events / (first
 *        event → last ack): the server's sustained capacity.
 *      - `--driver fake`: a fixed set of `--events` per center from MQTT.js
 *        clients (test/server-edge-client.ts), timed first publish → last ack.
 *  (2) the ceiling: the SAME points (read back from the end-to-end database
 *      and re-serialized with protocol/influx.ts, or the fake driver's events)
 *      as line protocol POSTed straight to /write, 5,000 lines per request,
 *      once with 1 writer and once with 2 parallel writers (the server may
 *      have two writes in flight's worth of CPU elsewhere; a single serial
 *      writer understates what InfluxDB takes), each into its own fresh influxd, with the end-to-end influxd and server stopped.
 * Prints events/s, the ratio to the better ceiling (goal ≥ 0.5) and to each,
 * and appends the figures to BENCHMARKS.md under "## Server ingest (issue 5)".
 *
 *   node --import tsx bench/ingest.ts [--driver sim] [--centers 200] [--rate 100] [--duration 30] [--batch 200] [--window 4] [--no-write]
 *   node --import tsx bench/ingest.ts --driver fake [--centers 200] [--events 1000] [--batch 200] [--window 4] [--no-write]
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { stringify as toYaml } from "yaml";
import type { HazriEvent } from "../protocol/events.ts";
import { eventToLine, MEASUREMENTS as MAP } from "../protocol/influx.ts";
import { startScaleFleet } from "../firmware-sim/src/scale/fleet.ts";
import { rowToEvent } from "../server/src/live/rebuild.ts";
import { freePort, makeTempDir, removeDir, seriesRows, spawnManaged, startInfluxd, waitReady, type InfluxInstance } from "../test/harness/index.ts";
import { connectFakeEdge, parseProm, withDeadline, type FakeEdge } from "../test/server-edge-client.ts";
import { appendSection, machine } from "./_server-bench.ts";
import { procSample } from "./_edge-bench.ts";

const HAZRI_BIN = fileURLToPath(new URL("../bin/hazri.mjs", import.meta.url));

const { values: a } = parseArgs({
  options: {
    driver: { type: "string", default: "sim" },
    centers: { type: "string", default: "200" },
    rate: { type: "string", default: "100" },
    duration: { type: "string", default: "30" },
    events: { type: "string", default: "1000" },
    batch: { type: "string", default: "200" },
    window: { type: "string", default: "4" },
    "no-write": { type: "boolean", default: false },
    /** Let the server gzip its write bodies (influx.gzip; off by default, as in production next to InfluxDB). */
    gzip: { type: "boolean", default: false },
  },
});
if (a.driver !== "sim" && a.driver !== "fake") throw new Error(`--driver must be sim or fake, not ${a.driver}`);
const DRIVER = a.driver;
const CENTERS = Number(a.centers);
const RATE = Number(a.rate);
const DURATION_S = Number(a.duration);
const PER = Number(a.events);
const BATCH = Number(a.batch);
const WINDOW = Number(a.window);
const LINES_PER_POST = 5000;
const T0 = Date.now() - 6 * 3600_000;
const ALL_MEASUREMENTS = Object.values(MAP);

/** Fake driver: a realistic mix (seat changes dominate, then badges, doors, a few power and heartbeat events). */
function makeEvent(center: string, seq: number): HazriEvent {
  const base = { v: 1, centerId: center, bootId: "boot-bench-01", seq, ts: T0 + seq * 50, mono: seq * 50, synced: true } as const;
  const k = seq % 20;
  if (k < 10) return { ...base, type: "seat", seat: `s-${String(seq % 40).padStart(3, "0")}`, zone: `z${seq % 4}`, state: seq % 3 ? "occupied" : "vacant", source: "mqtt" };
  if (k < 15)
    return { ...base, type: "badge", door: "main", reader: "r1", direction: seq % 2 ? "in" : "out", cardId: (0x1000000000 + seq).toString(16).toUpperCase(), memberId: `m-${seq % 500}`, decision: "granted", reason: "ok", flagged: false };
  if (k < 18) return { ...base, type: "door", door: "main", state: seq % 2 ? "opened" : "closed" };
  if (k < 19)
    return { ...base, type: "power", source: "mains", link: "ok", device: "ups1", ups: { status: ["OL", "CHRG"], chargePct: 98, runtimeS: 2400, batteryV: 27.1, inputV: 231, outputV: 230, loadPct: 20, tempC: null } };
  return { ...base, type: "heartbeat", outboxDepth: 0, devices: { r1: "ok", ups1: "ok" }, uplinkRttMs: 3, uptimeS: seq };
}

async function countAll(influx: InfluxInstance, db: string): Promise<number> {
  let n = 0;
  for (const m of ALL_MEASUREMENTS) n += Number(seriesRows(await influx.query(`SELECT count(seq) FROM "${m}"`, db))[0]?.count ?? 0);
  return n;
}

/** Every point of `db` as line protocol again (rowToEvent → eventToLine), read in time slices to bound memory. */
async function exportLines(influx: InfluxInstance, db: string, fromMs: number, toMs: number): Promise<string[]> {
  const out: string[] = [];
  const from = ALL_MEASUREMENTS.map((m) => `"${m}"`).join(",");
  for (let t = fromMs; t < toMs; t += 10_000) {
    const res = (await influx.query(`SELECT * FROM ${from} WHERE time >= ${t}ms AND time < ${t + 10_000}ms`, db)) as {
      results?: Array<{ series?: Array<{ name: string; columns: string[]; values: unknown[][] }> }>;
    };
    for (const s of res.results?.[0]?.series ?? [])
      for (const v of s.values) {
        const row: Record<string, unknown> = {};
        s.columns.forEach((c, i) => {
          if (v[i] !== null && v[i] !== undefined) row[c] = v[i];
        });
        const e = rowToEvent(s.name, row);
        if (!e) throw new Error(`point of ${s.name} does not map back to an event: ${JSON.stringify(row).slice(0, 200)}`);
        out.push(eventToLine(e));
      }
  }
  return out;
}

/**
 * POST `lines`, LINES_PER_POST per request, `writers` requests in flight, into a FRESH influxd (its own
 * temp dir, stopped afterwards): the end-to-end run also starts on an empty influxd, and a ceiling taken on
 * the same instance would pay for its compactions of the end-to-end data and come out low (by up to a
 * quarter here), flattering the ratio.
 */
async function ceiling(lines: string[], writers: number): Promise<{ seconds: number; stored: number }> {
  const fresh = await startInfluxd({});
  try {
    const db = "raw";
    await fresh.createDatabase(db);
    const chunks: string[] = [];
    for (let i = 0; i < lines.length; i += LINES_PER_POST) chunks.push(lines.slice(i, i + LINES_PER_POST).join("\n"));
    let next = 0;
    const t = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (next < chunks.length) await fresh.write(db, chunks[next++] as string, "ns");
      }),
    );
    const seconds = (performance.now() - t) / 1000;
    return { seconds, stored: await countAll(fresh, db) };
  } finally {
    await fresh.stop();
  }
}

const sendStats = { n: 0, ms: 0 };
/** Fake driver, one edge: up to WINDOW un-acked batches in flight; re-send what is still un-acked after 10 s without progress. */
async function runEdge(e: FakeEdge, events: HazriEvent[], wake: { fns: Set<() => void> }): Promise<void> {
  let next = 0; // index of the next event never sent
  let lastProgress = Date.now();
  let lastAcked = 0;
  while (e.acked.size < events.length) {
    if (e.acked.size !== lastAcked) {
      lastAcked = e.acked.size;
      lastProgress = Date.now();
    }
    const inFlight = next - e.acked.size;
    if (next < events.length && inFlight < WINDOW * BATCH) {
      const b = events.slice(next, next + BATCH);
      next += b.length;
      // Like the edge's uplink: the window counts application acks, not PUBACKs, so do not wait for the PUBACK.
      const ts = performance.now();
      e.send(b).then(
        () => {
          sendStats.n++;
          sendStats.ms += performance.now() - ts;
        },
        () => {},
      );
      continue;
    }
    if (Date.now() - lastProgress > 10_000) {
      // Lost to backpressure (no ack by design): re-send like the edge's outbox timer.
      const todo = events.slice(0, next).filter((x) => !e.acked.has(x.seq));
      for (let i = 0; i < todo.length; i += BATCH) await e.send(todo.slice(i, i + BATCH));
      lastProgress = Date.now();
    }
    await new Promise<void>((r) => {
      const t = setTimeout(done, 1000);
      function done() {
        clearTimeout(t);
        wake.fns.delete(done);
        r();
      }
      wake.fns.add(done);
    });
  }
}

interface E2e {
  events: number;
  seconds: number;
  /** Line protocol of exactly the points stored, for the ceiling. */
  lines: string[];
  note: string;
}

async function driveFake(brokerUrl: string, edges: FakeEdge[]): Promise<E2e> {
  const wakes: Array<{ fns: Set<() => void> }> = [];
  const all: HazriEvent[][] = [];
  for (let i = 0; i < CENTERS; i++) {
    const c = `bench-${String(i).padStart(4, "0")}`;
    const wake = { fns: new Set<() => void>() };
    wakes.push(wake);
    edges.push(await connectFakeEdge({ url: brokerUrl, centerId: c, bootId: "boot-bench-01", onAck: () => wake.fns.forEach((f) => f()) }));
    all.push(Array.from({ length: PER }, (_, k) => makeEvent(c, k + 1)));
  }
  const total = CENTERS * PER;
  process.stderr.write(`${CENTERS} fake edges connected; sending ${total} events (batch ${BATCH}, window ${WINDOW})\n`);
  const t1 = performance.now();
  const progress = setInterval(() => {
    process.stderr.write(`  ${((performance.now() - t1) / 1000).toFixed(0)} s: acked ${edges.reduce((n, e) => n + e.acked.size, 0)}\n`);
  }, 10_000);
  await withDeadline(Promise.all(edges.map((e, i) => runEdge(e, all[i] as HazriEvent[], wakes[i] as { fns: Set<() => void> }))), 1_800_000, "all acked");
  clearInterval(progress);
  const seconds = (performance.now() - t1) / 1000;
  process.stderr.write(`edges: ${sendStats.n} publishes, PUBACK after ${(sendStats.ms / Math.max(1, sendStats.n)).toFixed(1)} ms on average\n`);
  return {
    events: total,
    seconds,
    lines: all.flat().map(eventToLine),
    note: `${CENTERS} MQTT.js edges (test/server-edge-client.ts) in the benchmark process, ${PER} events each, batches of ${BATCH}, at most ${WINDOW} un-acked batches per edge; timed first publish → last ack`,
  };
}

async function driveSim(brokerUrl: string, influx: InfluxInstance): Promise<E2e> {
  const wallStart = Date.now();
  const fleet = await startScaleFleet({ brokerUrl, centers: CENTERS, ratePerCenter: RATE, seed: 12, idPrefix: "bench", batchSize: BATCH, window: WINDOW });
  try {
    process.stderr.write(`${CENTERS} sim edges connected; offering ${CENTERS * RATE} events/s for ${DURATION_S} s (batch ${BATCH}, window ${WINDOW})\n`);
    const t1 = performance.now();
    const cpu0 = { server: procSample(server.pid).cpuS, influxd: procSample(influx.pid).cpuS, bench: process.cpuUsage() };
    const progress = setInterval(() => {
      const s = fleet.stats();
      process.stderr.write(`  t=${s.elapsedS}s generated ${s.generated} acked ${s.acked} (${s.ackedPerSec}/s) pending ${s.pending}\n`);
    }, 10_000);
    await new Promise((r) => setTimeout(r, DURATION_S * 1000));
    const offered = fleet.stats();
    const final = await fleet.drain(1_800_000);
    clearInterval(progress);
    const seconds = (performance.now() - t1) / 1000;
    const benchCpu = process.cpuUsage(cpu0.bench);
    const cores = {
      server: (procSample(server.pid).cpuS - cpu0.server) / seconds,
      influxd: (procSample(influx.pid).cpuS - cpu0.influxd) / seconds,
      edges: (benchCpu.user + benchCpu.system) / 1e6 / seconds,
    };
    const coresText = `CPU during the run, in cores: server ${cores.server.toFixed(2)}, influxd ${cores.influxd.toFixed(2)}, the simulated edges ${cores.edges.toFixed(2)}`;
    process.stderr.write(`${coresText}\n`);
    // Close the edges before reading back: an edge that reconnects later (its keepalive missed while this
    // process is busy exporting) records uplink events that were never part of the acked count.
    await fleet.stop();
    const saturated = offered.pending > CENTERS * BATCH * WINDOW;
    if (!saturated)
      process.stderr.write(`WARNING: the outboxes never filled (pending ${offered.pending} at the end of generation): the rate measures the offer, not the server — raise --rate\n`);
    process.stderr.write(`fleet: generated ${final.generated}, acked ${final.acked}, re-sent ${final.resent}, connects ${final.connects}, disconnects ${final.disconnects}, ack latency p50 ${final.ackLatencyMs.p50} ms p99 ${final.ackLatencyMs.p99} ms\n`);
    const lines = await exportLines(influx, "e2e", wallStart - 3_600_000, Date.now() + 60_000);
    return {
      events: final.acked,
      seconds,
      lines,
      note:
        `${CENTERS} scale-mode sim edges (firmware-sim startScaleFleet) in the benchmark process offering ${RATE} events/s each for ${DURATION_S} s ` +
        `(${saturated ? `outboxes filled: ${offered.pending} pending when generation stopped` : "NOT saturated"}), batches of ${BATCH}, window ${WINDOW}; ` +
        `timed from the fleet's start to the last ack after generation stopped; p99 ack latency ${final.ackLatencyMs.p99} ms; ${coresText}`,
    };
  } finally {
    await fleet.stop();
  }
}

const dir = await makeTempDir("bench-ingest");
const influx = await startInfluxd({});
const httpPort = await freePort();
const mqttPort = await freePort();
const cfgFile = path.join(dir, "server.yaml");
await writeFile(
  cfgFile,
  toYaml({
    http: { host: "127.0.0.1", port: httpPort },
    broker: { embedded: { host: "127.0.0.1", port: mqttPort, auth: "none" } },
    mqtt: { clientId: "hazri-bench-server" },
    influx: { kind: "v1", url: influx.url, database: "e2e", timeoutMs: 60_000, gzip: a.gzip },
    ingest: { maxPendingEvents: 200_000, maxWriteEvents: 5_000 },
    live: { rebuild: false },
  }),
);
// HAZRI_BENCH_CPU_PROF=<dir>: write a V8 CPU profile of the server process there (on graceful stop).
const prof = process.env.HAZRI_BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.HAZRI_BENCH_CPU_PROF}`] : [];
const server = await spawnManaged(process.execPath, [...prof, HAZRI_BIN, "server", "--config", cfgFile], { name: "hazri-server", logFile: path.join(dir, "server.log") });
const edges: FakeEdge[] = [];
try {
  await waitReady(server, async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`).catch(() => null))?.ok, { timeoutMs: 60_000, what: "server healthz" });
  const brokerUrl = `mqtt://127.0.0.1:${mqttPort}`;
  const run = DRIVER === "sim" ? await driveSim(brokerUrl, influx) : await driveFake(brokerUrl, edges);
  const e2eStored = await countAll(influx, "e2e");
  const prom = parseProm(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text());
  const writes = prom.get("hazri_ingest_write_batches_total") ?? 0;
  const writeS = prom.get("hazri_ingest_write_latency_seconds_sum") ?? 0;
  process.stderr.write(`server: ${writes} InfluxDB writes (avg ${(run.events / Math.max(1, writes)).toFixed(0)} events, ${((writeS / Math.max(1, writes)) * 1000).toFixed(0)} ms each, ${writeS.toFixed(1)} s in writes)\n`);

  // (2) The raw ceilings: the same points, pre-serialized, 5,000 lines per POST, 1 and 2 writers.
  // Nothing of the end-to-end run may compete with the ceilings for CPU (influxd compacts for minutes).
  await server.stop();
  await influx.stop();
  const c1 = await ceiling(run.lines, 1);
  const c2 = await ceiling(run.lines, 2);
  const e2eRate = run.events / run.seconds;
  const r1 = run.lines.length / c1.seconds;
  const r2 = run.lines.length / c2.seconds;
  const best = Math.max(r1, r2);
  const result = {
    driver: DRIVER,
    centers: CENTERS,
    events: run.events,
    e2e: { seconds: +run.seconds.toFixed(2), eventsPerS: Math.round(e2eRate), stored: e2eStored },
    ceiling1: { seconds: +c1.seconds.toFixed(2), eventsPerS: Math.round(r1), stored: c1.stored },
    ceiling2: { seconds: +c2.seconds.toFixed(2), eventsPerS: Math.round(r2), stored: c2.stored },
    ratio: +(e2eRate / best).toFixed(2),
    ratio1: +(e2eRate / r1).toFixed(2),
    ratio2: +(e2eRate / r2).toFixed(2),
  };
  console.log(JSON.stringify(result, null, 2));
  const exact = e2eStored === run.events && run.lines.length === run.events && c1.stored === run.events && c2.stored === run.events;
  if (!exact) {
    console.error(`COUNT MISMATCH: acked ${run.events}, e2e stored ${e2eStored}, exported ${run.lines.length}, ceilings stored ${c1.stored}/${c2.stored}`);
    process.exitCode = 1;
  }
  if (!a["no-write"]) {
    const cmd =
      DRIVER === "sim"
        ? `node --import tsx bench/ingest.ts --driver sim --centers ${CENTERS} --rate ${RATE} --duration ${DURATION_S} --batch ${BATCH} --window ${WINDOW}`
        : `node --import tsx bench/ingest.ts --driver fake --centers ${CENTERS} --events ${PER} --batch ${BATCH} --window ${WINDOW}`;
    await appendSection(
      [
        `### End-to-end ingest vs raw InfluxDB ceiling (${DRIVER} driver) — ${new Date().toISOString()}`,
        "",
        `Command: \`${cmd}\`  `,
        `Machine: ${machine()}`,
        "",
        "| path | events | seconds | events/s | counted back in InfluxDB |",
        "|---|---:|---:|---:|---:|",
        `| edges → aedes → hazri server → InfluxDB 1.6.7 (acked) | ${run.events} | ${result.e2e.seconds} | ${result.e2e.eventsPerS} | ${e2eStored} |`,
        `| same points as line protocol, POST /write × 5,000, 1 writer | ${run.lines.length} | ${result.ceiling1.seconds} | ${result.ceiling1.eventsPerS} | ${c1.stored} |`,
        `| same points as line protocol, POST /write × 5,000, 2 writers | ${run.lines.length} | ${result.ceiling2.seconds} | ${result.ceiling2.eventsPerS} | ${c2.stored} |`,
        "",
        `Ratio end-to-end / the better ceiling: **${result.ratio}** (goal ≥ 0.5; vs 1 writer ${result.ratio1}, vs 2 writers ${result.ratio2}). ${run.note}. ` +
          "The server is `hazri server` as a child process (embedded aedes, auth none, writes of ≤ 5,000 lines, at most ingest.writeConcurrency = 2 in flight, not gzipped). " +
          "The ceilings write from this process after the end-to-end run, each into its own fresh influxd (like the end-to-end run).",
        "",
      ].join("\n"),
    );
  }
} finally {
  await Promise.all(edges.map((e) => e.close().catch(() => {})));
  await server.stop();
  await influx.stop();
  await removeDir(dir);
}
