/**
 * Scale-mode benchmark (issue 4): N simulated edges (one MQTT.js client each,
 * this process) against the full Hazri server as its own process (embedded
 * aedes + ingest) writing to a private InfluxDB 1.6.7. Measures the fleet's
 * events/s sent and acked and the ack latency (publish → application ack,
 * i.e. through InfluxDB), then a national-outage reconnect storm, then checks
 * InfluxDB holds exactly one point per generated event.
 *
 *   node --import tsx bench/sim-scale.ts [--centers 1000] [--rate 0.5] [--duration 60] [--outage 10] [--json out.json]
 */
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { stringify as toYaml } from "yaml";
import { startScaleFleet, type FleetStats, type StormReport } from "../firmware-sim/src/scale/fleet.ts";
import { freePort, makeTempDir, removeDir, seriesRows, spawnManaged, startInfluxd, waitReady } from "../test/harness/index.ts";

const HAZRI_BIN = fileURLToPath(new URL("../bin/hazri.mjs", import.meta.url));
const MEASUREMENTS = ["access", "seat", "door", "power", "uplink", "edge_heartbeat"];

const { values: a } = parseArgs({
  options: {
    centers: { type: "string", default: "1000" },
    rate: { type: "string", default: "0.5" },
    duration: { type: "string", default: "60" },
    outage: { type: "string", default: "10" },
    json: { type: "string" },
  },
});
const centers = Number(a.centers);
const rate = Number(a.rate);
const durationS = Number(a.duration);
const outageS = Number(a.outage);

const dir = await makeTempDir("bench-sim-scale");
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
    influx: { kind: "v1", url: influx.url, database: "bench" },
    ingest: { maxPendingEvents: 500_000 },
    live: { rebuild: false },
  }),
);
const server = await spawnManaged(process.execPath, [HAZRI_BIN, "server", "--config", cfgFile], { name: "hazri-server", logFile: path.join(dir, "server.log") });
let fleet: Awaited<ReturnType<typeof startScaleFleet>> | undefined;
// Ctrl-C: tear the daemons down instead of leaving a server and influxd behind.
let interrupted = false;
const onSig = () => {
  if (interrupted) return;
  interrupted = true;
  process.stderr.write("interrupted: stopping\n");
  void (async () => {
    await fleet?.stop();
    await server.stop("SIGTERM", 15_000);
    await influx.stop();
    await removeDir(dir);
    process.exit(130);
  })();
};
process.on("SIGINT", onSig);
process.on("SIGTERM", onSig);
try {
  await waitReady(server, async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`).catch(() => null))?.ok, { timeoutMs: 60_000, what: "server healthz" });
  const t0 = performance.now();
  fleet = await startScaleFleet({ brokerUrl: `mqtt://127.0.0.1:${mqttPort}`, centers, ratePerCenter: rate, seed: 4 });
  const connectS = (performance.now() - t0) / 1000;
  process.stderr.write(`${centers} centers connected in ${connectS.toFixed(1)} s\n`);
  const f = fleet;
  const progress = setInterval(() => {
    const s = f.stats();
    process.stderr.write(`  t=${s.elapsedS}s acked ${s.acked} (${s.ackedPerSec}/s) pending ${s.pending} p50 ${s.ackLatencyMs.p50} p99 ${s.ackLatencyMs.p99}\n`);
  }, 10_000);
  await new Promise((r) => setTimeout(r, durationS * 1000));
  const steady: FleetStats = f.stats();
  let storm: StormReport | null = null;
  if (outageS > 0) {
    process.stderr.write(`storm: ${outageS} s national outage\n`);
    storm = await f.storm({ outageMs: outageS * 1000, reconnectWithinMs: 2000 });
  }
  clearInterval(progress);
  const final = await f.drain(180_000);
  let stored = 0;
  for (const m of MEASUREMENTS) {
    const r = seriesRows(await influx.query(`SELECT count(seq) FROM ${m}`, "bench"));
    stored += Number(r[0]?.count ?? 0);
  }
  const result = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load avg at end ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`,
    command: `node --import tsx bench/sim-scale.ts --centers ${centers} --rate ${rate} --duration ${durationS} --outage ${outageS}`,
    centers,
    connectS: Math.round(connectS * 10) / 10,
    steady: { elapsedS: steady.elapsedS, generated: steady.generated, publishedPerSec: steady.publishedPerSec, ackedPerSec: steady.ackedPerSec, ackLatencyMs: steady.ackLatencyMs },
    storm,
    final: { generated: final.generated, acked: final.acked, resent: final.resent, duplicateAcks: final.duplicateAcks, ackLatencyMs: final.ackLatencyMs },
    influxPoints: stored,
    exactlyOnce: stored === final.generated && final.acked === final.generated,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (a.json) await writeFile(a.json, JSON.stringify(result, null, 2));
  if (!result.exactlyOnce) process.exitCode = 1;
} finally {
  await fleet?.stop();
  await server.stop("SIGTERM", 15_000);
  await influx.stop();
  await removeDir(dir);
}
