/**
 * Edge on real ptys (issue 3 benchmarks):
 *
 *  1. Badge → relay latency: the simulator's RDM6300 writes a frame into a socat pty; `hazri edge`
 *     (its own process) decodes it, decides, and drives the LCUS relay on another pty; latency = the
 *     last frame byte drained by the simulator → the relay command's last byte read back by it. ≥ 5,000
 *     taps while seat traffic runs and a backlog replays (the central acks in its own process), then
 *     taps with the uplink idle.
 *  2. Beside it, in the same run and interleaved tap by tap, the bare pty round trip: the same frame
 *     through the same kind of pty pair into a process that only reads 14 bytes and writes the 4 relay
 *     bytes to a second pty (bench/_pty-echo.ts). Goal: badge p99 ≤ 3 × bare p99.
 *  3. Edge RSS and CPU at a 100-seat center's normal load (a fresh edge process; seat sensors, taps,
 *     a polled Megatec Q1 UPS, heartbeats), from /proc/<pid>. Goal ≤ 120 MB and ≤ 5 % of one core.
 *
 *   node --import tsx bench/edge-pty.ts [--taps 5000] [--backlog 1500000] [--load-s 120] [--no-write]
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { openOutbox } from "../edge/src/outbox/outbox.ts";
import { createSimCenter } from "../firmware-sim/src/center.ts";
import { SimRelay } from "../firmware-sim/src/devices/relay.ts";
import { encodeRdm6300 } from "../firmware-sim/src/devices/rdm6300-wire.ts";
import { openDeviceSerial, writeDrained } from "../firmware-sim/src/devices/serial.ts";
import { startPtyPair, type PtyPair } from "../firmware-sim/src/pty.ts";
import { createRng } from "../firmware-sim/src/rng.ts";
import { systemClock } from "../protocol/clock.ts";
import type { EventDraft } from "../protocol/events.ts";
import { appendBenchSection, machineLine, pct, procSample } from "./_edge-bench.ts";

const { values: args } = parseArgs({
  options: {
    taps: { type: "string", default: "5000" },
    "idle-taps": { type: "string", default: "1000" },
    backlog: { type: "string", default: "1500000" },
    "load-s": { type: "string", default: "120" },
    seats: { type: "string", default: "100" },
    "no-write": { type: "boolean", default: false },
  },
});
const TAPS = Number(args.taps);
const IDLE_TAPS = Number(args["idle-taps"]);
const BACKLOG = Number(args.backlog);
const LOAD_S = Number(args["load-s"]);
const SEATS = Number(args.seats);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const C = "lhr-01";
const rng = createRng(7);
const dir = mkdtempSync(path.join(os.tmpdir(), "hazri-bench-pty-"));
const children = new Set<ChildProcess>();
const cleanup = () => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
};
process.on("SIGINT", () => process.exit(130));
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

const hex = () => Array.from({ length: 10 }, () => "0123456789ABCDEF"[rng.int(0, 15)]).join("");
const members = Array.from({ length: 200 }, (_, i) => ({ id: `m${i}`, cards: [hex()], status: "active" as const }));
writeFileSync(path.join(dir, "members.yaml"), `members:\n${members.map((m) => `  - { id: ${m.id}, cards: ["${m.cards[0]}"], status: active }`).join("\n")}\n`);
const seatIds = Array.from({ length: SEATS }, (_, i) => `s${String(i + 1).padStart(3, "0")}`);

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** Start a child, resolve with it and its first stdout line parsed by `ready`. */
function child<T>(cmd: string[], logFile: string | null, ready: (line: string) => T | undefined): Promise<{ proc: ChildProcess; value: T; lines: AsyncIterableIterator<string> }> {
  const proc = spawn(process.execPath, cmd, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  children.add(proc);
  proc.on("exit", () => children.delete(proc));
  const rl = createInterface({ input: proc.stdout! });
  const lines = rl[Symbol.asyncIterator]();
  let log = "";
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${cmd.join(" ")}: not ready after 60 s`)), 60_000);
    void (async () => {
      for (;;) {
        const { value: line, done } = await lines.next();
        if (done) return reject(new Error(`${cmd.join(" ")} exited before ready`));
        if (logFile) log += `${line}\n`;
        const v = ready(line);
        if (v !== undefined) {
          clearTimeout(t);
          if (logFile) writeFileSync(logFile, log);
          return resolve({ proc, value: v, lines });
        }
      }
    })();
  });
}

const central = await child(["--import", "tsx", "bench/_acking-central.ts"], null, (l) => (JSON.parse(l) as { port?: number }).port);
const lanPort = await freePort();
const sim = await createSimCenter({
  centerId: C,
  dir: path.join(dir, "sim"),
  seed: 7,
  readers: [{ id: "main-in", door: "main", direction: "in" }],
  doors: [{ id: "main", channel: 1 }],
  seats: seatIds.map((s) => ({ id: s, zone: `z${(Number(s.slice(1)) % 4) + 1}`, node: `cw-${s}`, object: "seat_occupied" })),
  members,
  power: [{ id: "ups", type: "megatec" }],
  requireListener: false,
});
const reader = sim.devices.readers["main-in"]!;
const relay = sim.devices.relays.main!.relay;
const ups = sim.power.devices.ups!;

function edgeYaml(heartbeatS: number): string {
  return JSON.stringify({
    center: C,
    dataDir: "./data",
    uplink: { url: `mqtt://127.0.0.1:${central.value}`, heartbeatS, batchSize: Number(process.env.HAZRI_BENCH_BATCH ?? 100), window: 4, replayShare: Number(process.env.HAZRI_BENCH_SHARE ?? 0.15) },
    lan: { host: "127.0.0.1", port: lanPort },
    members: "./members.yaml",
    doors: [{ id: "main", relay: { path: sim.devices.relays.main!.hostPath, channel: 1 }, unlockMs: 3000 }],
    readers: [{ id: "main-in", type: "rdm6300", door: "main", direction: "in", path: reader.hostPath }],
    seats: seatIds.map((s) => ({ id: s, zone: `z${(Number(s.slice(1)) % 4) + 1}`, node: `cw-${s}`, object: "seat_occupied" })),
    power: [{ type: "megatec", id: "ups", path: ups.type === "nut" ? "" : ups.hostPath, pollMs: 2000 }],
  });
}
const edgeConfig = path.join(dir, "center.yaml"); // JSON is YAML
let replayLog: string[] = [];
async function startEdge(variant: "source" | "bundle" = "source"): Promise<ChildProcess> {
  const cmd = variant === "source" ? ["bin/hazri.mjs", "edge", "--config", edgeConfig] : ["dist/hazri-edge.mjs", "--config", edgeConfig];
  // HAZRI_BENCH_EDGE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof": node options for the edge process only.
  const nodeArgs = (process.env.HAZRI_BENCH_EDGE_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const e = await child([...nodeArgs, ...cmd], null, (l) => (l.includes('"msg":"edge agent started"') ? true : undefined));
  void (async () => {
    for await (const l of e.lines) if (/replay (started|progress|done)/.test(l)) replayLog.push(l);
  })();
  return e.proc;
}
const stopProc = (p: ChildProcess) =>
  new Promise<void>((r) => {
    if (p.exitCode !== null) return r();
    p.once("exit", () => r());
    p.kill("SIGTERM");
  });

// Seat traffic: random seat changes at `perS` per second until stopped.
function seatTraffic(perS: number): { stop(): Promise<void>; count(): number } {
  let n = 0;
  let on = true;
  const loop = (async () => {
    while (on) {
      const s = seatIds[rng.int(0, seatIds.length - 1)]!;
      await sim.setSeat(s, rng.next() < 0.5).catch(() => undefined);
      n++;
      await new Promise((r) => setTimeout(r, 1000 / perS));
    }
  })();
  return { stop: async () => ((on = false), await loop), count: () => n };
}

// The bare pty round trip: frame into pty A → echo process → 4 bytes out of pty B.
const bareIn: PtyPair = await startPtyPair({ dir, name: "bare-in" });
const bareOut: PtyPair = await startPtyPair({ dir, name: "bare-out" });
const echo = await child(["--import", "tsx", "bench/_pty-echo.ts", bareIn.hostPath, bareOut.hostPath], null, (l) => (l === "ready" ? true : undefined));
const bareWriter = await openDeviceSerial(bareIn.devicePath);
const bareRelay = await SimRelay.open({ path: bareOut.devicePath });
async function bareRoundTrip(card: string): Promise<number> {
  const since = bareRelay.mark();
  const sent = await writeDrained(bareWriter, encodeRdm6300(card));
  const cmd = await bareRelay.waitFor((c) => c.on, 2000, { since });
  return cmd.at - sent;
}

let lastCard = "";
async function badgeToRelay(): Promise<number> {
  let card = lastCard;
  while (card === lastCard) card = members[rng.int(0, members.length - 1)]!.cards[0]!; // a new presentation each time
  lastCard = card;
  const since = relay.mark();
  const out = await sim.tap("main-in", card, { holdMs: 0 });
  const cmd = await relay.waitFor((c) => c.on, 5000, { since });
  return cmd.at - out.firstFrameAt;
}

// ---- 3. Normal load on a fresh edge: RSS and CPU, from the sources (tsx) and from the bundle -----
interface LoadFigures { variant: string; wallS: number; cpuPct: number; rssEndMiB: number; rssMaxMiB: number; hwmMiB: number; taps: number; seatChanges: number }
async function normalLoad(variant: "source" | "bundle"): Promise<LoadFigures> {
  writeFileSync(edgeConfig, edgeYaml(30));
  rmSync(path.join(dir, "data"), { recursive: true, force: true }); // a fresh edge each time
  const edge = await startEdge(variant);
  await sim.connectSeats(`mqtt://127.0.0.1:${lanPort}`);
  for (const s of seatIds) await sim.setSeat(s, false);
  await new Promise((r) => setTimeout(r, 5000)); // settle: start-up, first UPS polls, first heartbeat
  const loadStart = procSample(edge.pid!);
  const t0 = performance.now();
  // A busy day at a 100-seat center: ~120 seat changes and ~60 arrivals per hour. We run 10× that:
  // one seat change every 3 s and one tap every 6 s (≈ 1,200 seat changes and 600 taps per hour).
  const seatsLoad = seatTraffic(1 / 3);
  let taps = 0;
  const rss: number[] = [];
  while (performance.now() - t0 < LOAD_S * 1000) {
    await badgeToRelay();
    taps++;
    rss.push(procSample(edge.pid!).rssKiB);
    await new Promise((r) => setTimeout(r, 6000));
  }
  await seatsLoad.stop();
  const loadEnd = procSample(edge.pid!);
  const wallS = (performance.now() - t0) / 1000;
  const cpuPct = (100 * (loadEnd.cpuS - loadStart.cpuS)) / wallS;
  const f = { variant, wallS, cpuPct, rssEndMiB: loadEnd.rssKiB / 1024, rssMaxMiB: Math.max(...rss, loadEnd.rssKiB) / 1024, hwmMiB: loadEnd.hwmKiB / 1024, taps, seatChanges: seatsLoad.count() };
  console.log(`[load ${variant}] ${f.wallS.toFixed(0)} s: CPU ${cpuPct.toFixed(2)} % of one core, RSS ${f.rssEndMiB.toFixed(1)} MiB (max ${f.rssMaxMiB.toFixed(1)}, VmHWM ${f.hwmMiB.toFixed(1)}), ${taps} taps, ${f.seatChanges} seat changes`);
  await stopProc(edge);
  return f;
}
const build = spawnSync(process.execPath, ["scripts/build-edge.mjs"], { cwd: ROOT, stdio: "inherit" });
if (build.status !== 0) throw new Error("npm run build:edge failed");
const loads = [await normalLoad("source"), await normalLoad("bundle")];
rmSync(path.join(dir, "data"), { recursive: true, force: true });

// ---- 1+2. Latency with a backlog replaying, then idle, interleaved with the bare round trip ----
// The backlog is queued while the edge is stopped (an outage's worth of door and badge events), so
// the edge begins replaying as soon as it is up.
const ob = openOutbox({ path: path.join(dir, "data/outbox.sqlite"), centerId: C, bootId: "bench-backlog", clock: systemClock, synced: () => true });
for (let i = 0; i < BACKLOG; i += 10_000) {
  const drafts: EventDraft[] = Array.from({ length: Math.min(10_000, BACKLOG - i) }, (_, j) =>
    (i + j) % 3 === 0 ? { type: "door", door: "main", state: (i + j) % 2 ? "opened" : "closed" } : { type: "seat", seat: seatIds[(i + j) % SEATS]!, zone: "z1", state: (i + j) % 2 ? "occupied" : "vacant", source: "mqtt" },
  );
  ob.appendMany(drafts);
}
ob.close();
replayLog = [];
writeFileSync(edgeConfig, edgeYaml(5)); // heartbeats every 5 s carry the replay progress
const edge = await startEdge(process.env.HAZRI_BENCH_REPLAY_VARIANT === "bundle" ? "bundle" : "source"); // the seat sensors reconnect to its LAN broker on their own (MQTT.js reconnect)
const seatsBusy = seatTraffic(20); // 20 seat messages/s on the LAN broker throughout
const during: number[] = [];
const bareDuring: number[] = [];
const replayEnded = () => replayLog.some((l) => l.includes("replay done"));
while (during.length < TAPS && !replayEnded()) {
  during.push(await badgeToRelay());
  bareDuring.push(await bareRoundTrip(lastCard));
}
const replayCut = replayEnded();
const idle: number[] = [];
const bareIdle: number[] = [];
while (!replayEnded()) await new Promise((r) => setTimeout(r, 200));
while (idle.length < IDLE_TAPS) {
  idle.push(await badgeToRelay());
  bareIdle.push(await bareRoundTrip(lastCard));
}
await seatsBusy.stop();
const done = replayLog.find((l) => l.includes("replay done"));
const replay = done ? (JSON.parse(done) as { acked: number; seconds: number; perS: number }) : null;

const row = (name: string, xs: number[]) => `| ${name} | ${xs.length} | ${pct(xs, 50).toFixed(2)} | ${pct(xs, 99).toFixed(2)} | ${Math.max(...xs).toFixed(2)} |`;
const ratio = pct(during, 99) / pct(bareDuring, 99);
const ratioIdle = pct(idle, 99) / pct(bareIdle, 99);
const table = [
  "| path | n | p50 ms | p99 ms | max ms |",
  "|---|---:|---:|---:|---:|",
  row("badge → relay, backlog replaying + 20 seat msgs/s", during),
  row("bare pty round trip (interleaved with the row above)", bareDuring),
  row("badge → relay, uplink idle + 20 seat msgs/s", idle),
  row("bare pty round trip (interleaved with the row above)", bareIdle),
].join("\n");
console.log(table);
console.log(`p99 ratio badge/bare: ${ratio.toFixed(2)} during the replay, ${ratioIdle.toFixed(2)} idle (goal ≤ 3)`);
if (replay) console.log(`replay: ${replay.acked} events in ${replay.seconds} s (${replay.perS}/s)`);

const section = `### ${new Date().toISOString().slice(0, 10)}: badge → relay over ptys, bare pty round trip, edge RSS/CPU

Command: \`node --import tsx bench/edge-pty.ts --taps ${TAPS} --backlog ${BACKLOG} --load-s ${LOAD_S}\`
Machine: ${machineLine()}

\`hazri edge\` in its own process on socat ptys (RDM6300 reader, LCUS relay, Megatec Q1 UPS polled every 2 s,
${SEATS} ESPHome seat sensors on its LAN broker); the simulator and the bare echo in this process; the central
(aedes + immediate acks) in a third. Latency = the simulator's last frame byte drained → the relay command's
last byte read back. Bare = the same 14-byte frame through a pty pair into a process that only reads it and
writes the 4 relay bytes to a second pty pair (\`bench/_pty-echo.ts\`), one bare sample after each tap.

${table}

p99 ratio badge / bare: **${ratio.toFixed(2)}** with the replay running, **${ratioIdle.toFixed(2)}** idle (goal ≤ 3).
${replayCut ? `The replay ended after ${during.length} taps (fewer than ${TAPS}): raise --backlog for more.` : `All ${TAPS} taps ran while the replay was still going.`}
Replay: ${replay ? `${replay.acked.toLocaleString("en")} events in ${replay.seconds} s (${replay.perS.toLocaleString("en")}/s), with the taps and seat traffic going on` : "no 'replay done' line seen"}.

Edge at a 100-seat center's load (a fresh process each, ${loads[0]!.wallS.toFixed(0)} s; one seat change every 3 s and one tap every 6 s,
about 10 × a busy day's rate; UPS polled every 2 s; heartbeat 30 s; goals ≤ 5 % of one core and ≤ 120 MB):

| edge run from | CPU (% of one core) | RSS at the end | max RSS sampled | VmHWM |
|---|---:|---:|---:|---:|
${loads.map((l) => `| ${l.variant === "source" ? "the sources (\`hazri edge\`, tsx)" : "the bundle (\`npm run build:edge\`, dist/hazri-edge.mjs)"} | ${l.cpuPct.toFixed(2)} | ${l.rssEndMiB.toFixed(1)} MiB | ${l.rssMaxMiB.toFixed(1)} MiB | ${l.hwmMiB.toFixed(1)} MiB |`).join("\n")}
`;
if (!args["no-write"]) appendBenchSection("## Edge on real ptys (issue 3)", section);

await stopProc(edge);
echo.proc.kill("SIGTERM");
central.proc.kill("SIGTERM");
await bareWriter.close();
await bareRelay.close();
await bareIn.stop();
await bareOut.stop();
await sim.stop();
cleanup();
process.exit(0);
