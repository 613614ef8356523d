/**
 * 10,000 concurrently connected edges with heartbeats on one server (issue 5
 * "Benchmarks"): `hazri server` as a child process (embedded aedes, private
 * InfluxDB 1.6.7); the edges are MQTT.js clients spread over worker child
 * processes (this file re-run with `worker`), each doing what an idle edge
 * does: retained `online` status, SUBSCRIBE to its ack topic, one heartbeat
 * event every `--heartbeat` seconds (QoS 1, acked by the server after the
 * InfluxDB write), MQTT keepalive 60 s.
 * Measured on the server process: VmRSS (/proc/<pid>/status) before any edge
 * and with all connected, and CPU (utime+stime from /proc/<pid>/stat) over a
 * steady window. Appends to BENCHMARKS.md under "## Server ingest (issue 5)".
 *
 *   node --import tsx bench/connections.ts [--edges 10000] [--workers 2] [--heartbeat 30] [--window 60] [--no-write]
 */
import { fork } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { stringify as toYaml } from "yaml";

const HAZRI_BIN = fileURLToPath(new URL("../bin/hazri.mjs", import.meta.url));

if (process.argv[2] === "worker") await worker();
else await main();

/** Worker: connects edges [from, to) and keeps them alive with heartbeats until told to stop. */
async function worker(): Promise<void> {
  const [, , , url, fromS, toS, hbS] = process.argv as string[];
  const { connectFakeEdge } = await import("../test/server-edge-client.ts");
  const from = Number(fromS);
  const to = Number(toS);
  const hbMs = Number(hbS) * 1000;
  const edges: Awaited<ReturnType<typeof connectFakeEdge>>[] = [];
  let sent = 0;
  let failed = 0;
  const T0 = Date.now();
  const timers: ReturnType<typeof setTimeout>[] = [];
  for (let i = from; i < to; i += 100) {
    // Connect in waves of 100 so the accept queue and the server's CONNECT handling are not one spike.
    const wave = await Promise.allSettled(
      Array.from({ length: Math.min(100, to - i) }, async (_, k) => {
        const c = `conn-${String(i + k).padStart(5, "0")}`;
        const e = await connectFakeEdge({ url: url as string, centerId: c, bootId: "boot-conn-01" });
        await e.publishStatus("online", Date.now());
        return e;
      }),
    );
    for (const w of wave) if (w.status === "fulfilled") edges.push(w.value);
    else failed++;
    process.send?.({ kind: "progress", connected: edges.length, failed });
  }
  edges.forEach((e, idx) => {
    let seq = 0;
    const beat = () => {
      seq++;
      sent++;
      const ev = { v: 1, centerId: e.centerId, bootId: "boot-conn-01", seq, ts: Date.now(), mono: Date.now() - T0, synced: true, type: "heartbeat", outboxDepth: 0, devices: { r1: "ok" }, uplinkRttMs: 5, uptimeS: (Date.now() - T0) / 1000 } as const;
      e.send([ev]).catch(() => {});
      timers[idx] = setTimeout(beat, hbMs);
    };
    // Spread the first beats over one period (an edge fleet is not synchronised).
    timers[idx] = setTimeout(beat, Math.floor((idx / edges.length) * hbMs));
  });
  process.send?.({ kind: "ready", connected: edges.length, failed });
  process.on("message", async (m: { kind: string }) => {
    if (m.kind === "stats") {
      const acked = edges.reduce((n, e) => n + e.acked.size, 0);
      const online = edges.filter((e) => e.client.connected).length;
      process.send?.({ kind: "stats", sent, acked, online });
    } else if (m.kind === "stop") {
      timers.forEach((t) => clearTimeout(t));
      await Promise.all(edges.map((e) => e.close().catch(() => {})));
      process.exit(0);
    }
  });
}

async function main(): Promise<void> {
  const { freePort, makeTempDir, removeDir, spawnManaged, startInfluxd, waitReady, waitFor } = await import("../test/harness/index.ts");
  const { appendSection, machine } = await import("./_server-bench.ts");
  const { values: a } = parseArgs({
    args: process.argv.slice(2),
    options: {
      edges: { type: "string", default: "10000" },
      workers: { type: "string", default: "2" },
      heartbeat: { type: "string", default: "30" },
      window: { type: "string", default: "60" },
      "no-write": { type: "boolean", default: false },
    },
  });
  const EDGES = Number(a.edges);
  const WORKERS = Number(a.workers);
  const HB = Number(a.heartbeat);
  const WINDOW = Number(a.window);
  const { execSync } = await import("node:child_process");
  const nofile = Number(execSync("ulimit -n", { shell: "/bin/bash" }).toString().trim());
  const perProcess = Math.ceil(EDGES / WORKERS) + 200;
  if (nofile < EDGES + 200)
    process.stderr.write(`note: ulimit -n is ${nofile}; the server needs ~${EDGES + 200} fds and each worker ~${perProcess} (raise with \`ulimit -n 30000\` if this fails)\n`);

  const stat = async (pid: number) => {
    const s = await readFile(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15), in USER_HZ
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
    return { ticks, rss };
  };
  const HZ = Number(execSync("getconf CLK_TCK").toString().trim()) || 100;

  const dir = await makeTempDir("bench-conn");
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
      influx: { kind: "v1", url: influx.url, database: "conn" },
      live: { rebuild: false },
    }),
  );
  const server = await spawnManaged(process.execPath, [HAZRI_BIN, "server", "--config", cfgFile], { name: "hazri-server", logFile: path.join(dir, "server.log") });
  const workers: ReturnType<typeof fork>[] = [];
  try {
    await waitReady(server, async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`).catch(() => null))?.ok, { timeoutMs: 60_000, what: "server healthz" });
    const idle = await stat(server.pid);
    const t0 = performance.now();
    const ready: Promise<{ connected: number; failed: number }>[] = [];
    const per = Math.ceil(EDGES / WORKERS);
    for (let w = 0; w < WORKERS; w++) {
      const from = w * per;
      const to = Math.min(EDGES, from + per);
      const child = fork(fileURLToPath(import.meta.url), ["worker", `mqtt://127.0.0.1:${mqttPort}`, String(from), String(to), String(HB)], {
        execArgv: ["--import", "tsx", "--max-old-space-size=4096"],
      });
      workers.push(child);
      ready.push(
        new Promise((resolve, reject) => {
          child.on("message", (m: { kind: string; connected: number; failed: number }) => {
            if (m.kind === "ready") resolve(m);
          });
          child.on("exit", (code) => reject(new Error(`worker ${w} exited ${code}`)));
        }),
      );
    }
    const progress = setInterval(async () => {
      const s = await stat(server.pid).catch(() => null);
      process.stderr.write(`  ${((performance.now() - t0) / 1000).toFixed(0)} s: server RSS ${s?.rss.toFixed(0)} MiB\n`);
    }, 10_000);
    const r = await Promise.all(ready);
    clearInterval(progress);
    const connected = r.reduce((n, x) => n + x.connected, 0);
    const failed = r.reduce((n, x) => n + x.failed, 0);
    const connectS = (performance.now() - t0) / 1000;
    process.stderr.write(`${connected} edges connected (${failed} failed) in ${connectS.toFixed(1)} s\n`);
    const online = await waitFor(
      async () => {
        const c = (await (await fetch(`http://127.0.0.1:${httpPort}/api/centers`)).json()) as { centers: Array<{ edgeOnline: boolean | null }> };
        const n = c.centers.filter((x) => x.edgeOnline).length;
        return n >= connected ? n : null;
      },
      { timeoutMs: 120_000, what: "server sees every edge online", intervalMs: 1000 },
    );
    // Let the first heartbeat period pass (spread start), then measure a steady window.
    await new Promise((res) => setTimeout(res, HB * 1000));
    const stats = () =>
      Promise.all(
        workers.map(
          (w) =>
            new Promise<{ sent: number; acked: number; online: number }>((resolve) => {
              const on = (m: { kind: string; sent: number; acked: number; online: number }) => {
                if (m.kind !== "stats") return;
                w.off("message", on);
                resolve(m);
              };
              w.on("message", on);
              w.send({ kind: "stats" });
            }),
        ),
      ).then((xs) => xs.reduce((s, x) => ({ sent: s.sent + x.sent, acked: s.acked + x.acked, online: s.online + x.online }), { sent: 0, acked: 0, online: 0 }));
    const s0 = await stat(server.pid);
    const w0 = await stats();
    const m0 = performance.now();
    await new Promise((res) => setTimeout(res, WINDOW * 1000));
    const s1 = await stat(server.pid);
    const w1 = await stats();
    const secs = (performance.now() - m0) / 1000;
    const cpuPct = ((s1.ticks - s0.ticks) / HZ / secs) * 100;
    const result = {
      edges: EDGES,
      connected,
      failed,
      connectSeconds: +connectS.toFixed(1),
      serverRssIdleMiB: +idle.rss.toFixed(0),
      serverRssConnectedMiB: +s1.rss.toFixed(0),
      perEdgeKiB: +(((s1.rss - idle.rss) * 1024) / Math.max(1, connected)).toFixed(1),
      cpuPercentOfOneCore: +cpuPct.toFixed(1),
      windowSeconds: +secs.toFixed(0),
      heartbeatsPerS: +((w1.sent - w0.sent) / secs).toFixed(0),
      ackedPerS: +((w1.acked - w0.acked) / secs).toFixed(0),
      stillOnline: w1.online,
      onlineInLiveView: online,
    };
    console.log(JSON.stringify(result, null, 2));
    if (!a["no-write"]) {
      await appendSection(
        [
          `### ${EDGES.toLocaleString("en-US")} connected edges with heartbeats — ${new Date().toISOString()}`,
          "",
          `Command: \`node --import tsx bench/connections.ts --edges ${EDGES} --workers ${WORKERS} --heartbeat ${HB} --window ${WINDOW}\`  `,
          `Machine: ${machine()}`,
          "",
          "| edges connected | connect time | server RSS idle → connected | per edge | server CPU (steady window) | heartbeats/s sent → acked |",
          "|---:|---:|---:|---:|---:|---:|",
          `| ${connected} (${failed} failed) | ${result.connectSeconds} s | ${result.serverRssIdleMiB} → ${result.serverRssConnectedMiB} MiB | ${result.perEdgeKiB} KiB | ${result.cpuPercentOfOneCore} % of one core over ${result.windowSeconds} s | ${result.heartbeatsPerS} → ${result.ackedPerS} |`,
          "",
          `The server is \`hazri server\` as a child process (embedded aedes, auth none — with center credentials each CONNECT costs one scrypt, ` +
            `cached per center afterwards; not measured here), writing the heartbeats to InfluxDB 1.6.7 and acking them. Edges: MQTT.js clients in ${WORKERS} worker ` +
            `processes, keepalive 60 s, retained online status, one heartbeat event per edge every ${HB} s. RSS from /proc/<pid>/status VmRSS, CPU from ` +
            `/proc/<pid>/stat utime+stime. ulimit -n ${nofile}.`,
          "",
        ].join("\n"),
      );
    }
  } finally {
    for (const w of workers) if (w.connected) w.send({ kind: "stop" });
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once("exit", r)))));
    await server.stop();
    await influx.stop();
    await removeDir(dir);
  }
}
