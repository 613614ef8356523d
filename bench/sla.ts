/**
 * SLA report build time and memory (issue 6): a month of synthetic edge events
 * (heartbeat every 30 s, power and WAN transitions with seeded outages, an
 * occasional dark edge) for N centers, written to a private InfluxDB 1.6.7
 * through the protocol's line protocol; then the monthly report for one center
 * and for all N (league table), timed, with this process's heap/RSS and
 * influxd's peak RSS. Appends to BENCHMARKS.md under "## SLA reports (issue 6)".
 *
 *   node --import tsx bench/sla.ts [--centers 250] [--heartbeat-s 30] [--runs 3] [--no-write]
 *
 * Then the same league table through the SLA cache of closed days
 * (server/src/sla/cache.ts, what the server uses): the first (cold) build, the
 * warm builds after it, and a build after late data invalidated one
 * center-day.
 *
 * On the shared 2-core box influxd ingests ~3–10k points/s, so a month of 250
 * centers at the real 30 s heartbeat (22 M points) takes hours to load; the
 * 250-center run uses a sparser heartbeat (and the matching evidence threshold),
 * and a 25-center run at 30 s shows the cost of dense heartbeats.
 */
import { readFile, appendFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { silentLogger } from "../protocol/clock.ts";
import type { PowerSource } from "../protocol/events.ts";
import { eventToLine } from "../protocol/influx.ts";
import { createInfluxAdapter } from "../server/src/influx/adapter.ts";
import { monthPeriod } from "../server/src/sla/calendar.ts";
import { parseSlaConfig } from "../server/src/sla/config.ts";
import { buildSlaReport } from "../server/src/sla/report.ts";
import { createSlaCache } from "../server/src/sla/cache.ts";
import { slaSummaryCsv } from "../server/src/sla/report.ts";
import type { Change, Interval } from "../server/src/sla/intervals.ts";
import { startInfluxd } from "../test/harness/index.ts";
import { edgeEvents } from "../test/sla-scenario.ts";
import { machine } from "./_server-bench.ts";

const { values: a } = parseArgs({
  options: {
    centers: { type: "string", default: "250" },
    "heartbeat-s": { type: "string", default: "30" },
    runs: { type: "string", default: "3" },
    "no-write": { type: "boolean", default: false },
  },
});
const N = Number(a.centers);
const RUNS = Number(a.runs);
const HB_S = Number(a["heartbeat-s"]);
const MONTH = "2026-03";
const P = monthPeriod(MONTH);
const H = 3_600_000;

/** mulberry32: a seeded PRNG so every run writes the same month. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function center(i: number) {
  const r = rng(1000 + i);
  const power: Change<PowerSource>[] = [{ t: P.start - H, state: "mains" }];
  const wan: Change<"up" | "down">[] = [];
  const edgeOff: Interval[] = [];
  for (let d = 0; d < 31; d++) {
    const day = P.start + d * 24 * H;
    // Load-shedding: 1–3 cuts a day, 30–120 min on UPS/generator, sometimes running out.
    const cuts = 1 + Math.floor(r() * 3);
    for (let k = 0; k < cuts; k++) {
      const s = day + (6 + k * 5 + r() * 4) * H;
      const len = (30 + r() * 90) * 60_000;
      power.push({ t: Math.round(s), state: r() < 0.3 ? "generator" : "battery" });
      if (r() < 0.15) power.push({ t: Math.round(s + len * 0.8), state: "down" });
      power.push({ t: Math.round(s + len), state: "mains" });
    }
    if (r() < 0.3) {
      const s = day + (8 + r() * 10) * H;
      wan.push({ t: Math.round(s), state: "down" }, { t: Math.round(s + (5 + r() * 120) * 60_000), state: "up" });
    }
    if (r() < 0.03) {
      const s = day + (9 + r() * 8) * H;
      edgeOff.push({ start: Math.round(s), end: Math.round(s + 20 * 60_000) });
    }
  }
  power.sort((x, y) => x.t - y.t);
  return { centerId: `c${String(i).padStart(3, "0")}`, from: P.start - H, to: P.end + H, power, wan, edgeOff, heartbeatMs: HB_S * 1000, phaseMs: Math.round(r() * HB_S * 1000) };
}

const influx = await startInfluxd();
const peakRss = async (pid: number) => {
  const s = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024;
};
try {
  await influx.createDatabase("hazri");
  const t0 = performance.now();
  let points = 0;
  for (let i = 0; i < N; i++) {
    const lines = edgeEvents(center(i)).map(eventToLine);
    points += lines.length;
    for (let k = 0; k < lines.length; k += 50_000) await influx.write("hazri", lines.slice(k, k + 50_000).join("\n"), "ns");
    if ((i + 1) % 25 === 0) console.log(`wrote ${i + 1}/${N} centers, ${points} points, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const writeS = (performance.now() - t0) / 1000;
  console.log(`write: ${points} points in ${writeS.toFixed(1)} s (${Math.round(points / writeS)} points/s)`);

  const adapter = await createInfluxAdapter({ kind: "v1", url: influx.url, database: "hazri", timeoutMs: 600_000 }, { logger: silentLogger });
  // Time every InfluxQL statement (by its measurement/function) to show where a build goes.
  const qTimes = new Map<string, number[]>();
  const timed = {
    query: async (q: string) => {
      const s = performance.now();
      try {
        return await adapter.query(q);
      } finally {
        const key = q.replace(/WHERE.*?(GROUP BY|$)/s, "WHERE … $1").replace(/\s+/g, " ").slice(0, 110);
        qTimes.set(key, [...(qTimes.get(key) ?? []), performance.now() - s]);
      }
    },
  };
  const deps = { influx: timed, clock: { now: () => P.end + 86_400_000 }, config: parseSlaConfig({ heartbeatS: HB_S }) };
  const measure = async (centers: string[] | "all") => {
    const times: number[] = [];
    let heapPeak = 0;
    let rows = 0;
    for (let k = 0; k < RUNS; k++) {
      global.gc?.();
      const before = process.memoryUsage();
      const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed - before.heapUsed)), 20);
      const s = performance.now();
      const r = await buildSlaReport(deps, { month: MONTH, centers });
      slaSummaryCsv(r);
      times.push(performance.now() - s);
      clearInterval(sampler);
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed - before.heapUsed);
      rows = r.centers.length;
    }
    times.sort((x, y) => x - y);
    return { centers: rows, medianMs: times[Math.floor(times.length / 2)] as number, minMs: times[0] as number, heapPeakMb: heapPeak / 2 ** 20 };
  };
  const one = await measure(["c000"]);
  qTimes.clear();
  const all = await measure("all");
  const slowest = [...qTimes].map(([k, v]) => [k, v.reduce((x, y) => x + y, 0) / v.length] as const).sort((x, y) => y[1] - x[1]);
  for (const [k, ms] of slowest) console.log(`  ${ms.toFixed(0).padStart(6)} ms  ${k}`);
  // Through the cache of closed days: cold once, then warm; then one center-day invalidated (late data).
  const cache = createSlaCache();
  const cachedDeps = { ...deps, cache };
  const timeBuild = async () => {
    const s = performance.now();
    slaSummaryCsv(await buildSlaReport(cachedDeps, { month: MONTH, centers: "all" }));
    return performance.now() - s;
  };
  const coldMs = await timeBuild();
  const warmTimes: number[] = [];
  for (let k = 0; k < RUNS; k++) warmTimes.push(await timeBuild());
  warmTimes.sort((x, y) => x - y);
  const warmMs = warmTimes[Math.floor(warmTimes.length / 2)] as number;
  cache.invalidate("c000", P.start + 9 * 86_400_000 + 12 * H);
  const lateMs = await timeBuild();
  console.log(`cached league: cold ${coldMs.toFixed(0)} ms, warm median ${warmMs.toFixed(0)} ms, after one center-day invalidated ${lateMs.toFixed(0)} ms`);
  const rss = process.memoryUsage().rss / 2 ** 20;
  const influxRss = await peakRss(influx.pid);
  await adapter.close();
  const fmt = (x: { centers: number; medianMs: number; minMs: number; heapPeakMb: number }) =>
    `median ${x.medianMs.toFixed(0)} ms (min ${x.minMs.toFixed(0)} ms), heap growth peak ${x.heapPeakMb.toFixed(1)} MB`;
  console.log(`1 center: ${fmt(one)}\n${all.centers} centers: ${fmt(all)}\nprocess RSS ${rss.toFixed(0)} MB, influxd peak RSS ${influxRss.toFixed(0)} MB`);

  if (!a["no-write"]) {
    const text = [
      `### ${new Date().toISOString().slice(0, 10)}: ${N} centers × 1 month (${MONTH}), heartbeat ${HB_S} s`,
      "",
      `Command: \`node --expose-gc --import tsx bench/sla.ts --centers ${N} --heartbeat-s ${HB_S} --runs ${RUNS}\``,
      "",
      `Machine: ${machine()}`,
      "",
      `Data: ${points.toLocaleString("en")} points (heartbeat every ${HB_S} s, 1–3 power cuts a day, WAN drops, some 20-min dark edges) written in ${writeS.toFixed(0)} s (${Math.round(points / writeS).toLocaleString("en")} points/s, raw line protocol, 50k-line POSTs).`,
      "",
      "| Report | Centers | Build time (median of " + RUNS + ") | Fastest | Heap growth (peak) |",
      "|---|---|---|---|---|",
      `| one center, one month | 1 | ${one.medianMs.toFixed(0)} ms | ${one.minMs.toFixed(0)} ms | ${one.heapPeakMb.toFixed(1)} MB |`,
      `| league table, one month | ${all.centers} | ${all.medianMs.toFixed(0)} ms | ${all.minMs.toFixed(0)} ms | ${all.heapPeakMb.toFixed(1)} MB |`,
      `| league table, cache cold (first build) | ${all.centers} | ${coldMs.toFixed(0)} ms (1 run) | | |`,
      `| league table, cache warm (closed days cached) | ${all.centers} | ${warmMs.toFixed(0)} ms | ${(warmTimes[0] as number).toFixed(0)} ms | |`,
      `| league table, one center-day invalidated by late data | ${all.centers} | ${lateMs.toFixed(0)} ms (1 run) | | |`,
      "",
      `InfluxQL time per statement in the league build (mean of ${RUNS}; they run concurrently): ${slowest
        .slice(0, 3)
        .map(([k, ms]) => `${ms.toFixed(0)} ms \`${k.replace(/`/g, "")}\``)
        .join("; ")}.`,
      "",
      `Report process RSS at the end ${rss.toFixed(0)} MB; influxd peak RSS (VmHWM) ${influxRss.toFixed(0)} MB. Uncached build = 18 InfluxQL queries (GROUP BY center; heartbeat gaps reduced in InfluxDB with ELAPSED(); the month as one slice, the state before it, the evidence just outside it) + the pure computation + CSV; the cached build reads closed days from server/src/sla/cache.ts (cold: 6 queries per day). PDF rendering not included.`,
      "",
    ].join("\n");
    const BENCH_MD = fileURLToPath(new URL("../BENCHMARKS.md", import.meta.url));
    const HEADING = "## SLA reports (issue 6)";
    let md = "";
    try {
      md = await readFile(BENCH_MD, "utf8");
    } catch {
      md = "# Benchmarks\n";
    }
    if (!md.includes(HEADING)) await writeFile(BENCH_MD, `${md.replace(/\n*$/, "\n\n")}${HEADING}\n\n${text}`);
    else {
      const start = md.indexOf(HEADING);
      const next = md.indexOf("\n## ", start + HEADING.length);
      if (next === -1) await appendFile(BENCH_MD, `${md.endsWith("\n") ? "" : "\n"}\n${text}`);
      else await writeFile(BENCH_MD, `${md.slice(0, next).replace(/\n*$/, "\n\n")}${text}\n${md.slice(next)}`);
    }
    console.log(`appended to BENCHMARKS.md under "${HEADING}"`);
  }
} finally {
  await influx.stop();
}
