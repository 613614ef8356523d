/**
 * Door decision latency while a backlog replays (issue 3; reliability matrix
 * SF-8: drain ≥ 200 ev/s, door p99 < 150 ms during the drain). In-process
 * edge agent on MockBinding serial ports, real aedes broker + an acking fake
 * server over TCP, real SQLite outbox with synchronous=FULL.
 * Latency = tap bytes emitted on the reader port → relay ON command written
 * (the agent's whole fast path: framer, decode, lookup, decide, relay write),
 * measured first with an idle uplink (baseline), then during the replay.
 * Figures are printed; copy them into BENCHMARKS.md. Nothing is asserted.
 *
 *   node --import tsx bench/edge-replay.ts [backlog=50000]
 */
import { Aedes } from "aedes";
import net from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt from "mqtt";
import { SerialPortMock } from "serialport";
import { createEdgeAgent } from "../edge/src/agent.ts";
import { parseEdgeConfig } from "../edge/src/config.ts";
import { encodeRdm6300 } from "../edge/src/devices/rdm6300/decode.ts";
import { openOutbox } from "../edge/src/outbox/outbox.ts";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import type { EventDraft } from "../protocol/events.ts";
import { toRanges } from "../protocol/messages.ts";
import { topics } from "../protocol/topics.ts";

const BACKLOG = Number(process.argv[2] ?? 50_000);
const C = "lhr-01";
const CARDS = ["62E3086CED", "01026F6C3A"];
const MockBinding = SerialPortMock.binding;
type MockPort = Awaited<ReturnType<typeof MockBinding.open>>;
const opened = new Map<string, MockPort>();
const origOpen = MockBinding.open.bind(MockBinding);
(MockBinding as { open: typeof MockBinding.open }).open = async (o) => {
  const p = await origOpen(o);
  opened.set(o.path, p);
  return p;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN).toFixed(2);
  return `n=${s.length} p50 ${q(50)} ms, p99 ${q(99)} ms, max ${(s[s.length - 1] ?? NaN).toFixed(2)} ms`;
};

const dir = mkdtempSync(path.join(tmpdir(), "hazri-bench-replay-"));
writeFileSync(path.join(dir, "members.yaml"), `members:\n${CARDS.map((c, i) => `  - { id: m${i}, cards: ["${c}"], status: active }`).join("\n")}\n`);
const portSrv = net.createServer();
await new Promise<void>((r) => portSrv.listen(0, "127.0.0.1", r));
const port = (portSrv.address() as net.AddressInfo).port;
await new Promise<void>((r) => portSrv.close(() => r()));

MockBinding.createPort("/dev/mock-relay", {});
MockBinding.createPort("/dev/mock-rfid", {});
const config = parseEdgeConfig(
  {
    center: C,
    dataDir: "./data",
    uplink: { url: `mqtt://127.0.0.1:${port}`, heartbeatS: 5, batchSize: 500, window: 4 },
    lan: { host: "127.0.0.1", port: 0 },
    members: "./members.yaml",
    doors: [{ id: "main", relay: { path: "/dev/mock-relay" }, unlockMs: 100 }],
    readers: [{ id: "main-in", type: "rdm6300", door: "main", direction: "in", path: "/dev/mock-rfid" }],
  },
  dir,
);
const agent = await createEdgeAgent(config, { logger: silentLogger, clock: systemClock, binding: MockBinding, removeAfterMs: 20 });
await agent.start();
while (agent.status().devices["main-in"] !== "ok" || !opened.has("/dev/mock-relay")) await sleep(10);
const relay = opened.get("/dev/mock-relay")!;
const rfid = opened.get("/dev/mock-rfid")!;
let onRelay: (() => void) | null = null;
const origWrite = relay.write.bind(relay);
relay.write = async (b: Buffer) => {
  if (b[2] === 0x01) onRelay?.(); // LCUS "A0 01 01 A2" = ON (§8)
  return origWrite(b);
};
async function taps(n: number, whileCond: () => boolean = () => true): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n && whileCond(); i++) {
    const t0 = performance.now();
    const done = new Promise<void>((r) => (onRelay = r));
    rfid.emitData(Buffer.from(encodeRdm6300(CARDS[i % 2]!)));
    await done;
    out.push(performance.now() - t0);
    await sleep(25);
  }
  return out;
}

// Baseline: uplink down, nothing to replay yet (the agent's own events only).
const base = await taps(300);
await agent.stop();

// Fill the backlog in the same outbox, then restart the agent with the broker up.
const ob = openOutbox({ path: path.join(dir, "data/outbox.sqlite"), centerId: C, bootId: "boot-before", clock: systemClock, synced: () => true });
for (let i = 0; i < BACKLOG; i += 5000) {
  ob.appendMany(Array.from({ length: Math.min(5000, BACKLOG - i) }, (_, j): EventDraft => ({ type: "seat", seat: `s${(i + j) % 100}`, zone: "z1", state: (i + j) % 2 ? "occupied" : "vacant", source: "mqtt" })));
}
ob.close();
const broker = await Aedes.createBroker();
const srv = net.createServer((s) => {
  s.setNoDelay(true);
  broker.handle(s);
});
await new Promise<void>((r) => srv.listen(port, "127.0.0.1", r));
const server = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: "fake-server" });
(server.stream as net.Socket).setNoDelay?.(true);
await server.subscribeAsync(topics.allUp("events"), { qos: 1 });
server.on("message", (_t, payload) => {
  const b = JSON.parse(payload.toString()) as { events: { seq: number }[] };
  server.publish(topics.down(C, "ack"), JSON.stringify({ v: 1, centerId: C, acked: toRanges(b.events.map((e) => e.seq)), rejected: [], serverTime: Date.now() }), { qos: 1 });
});
MockBinding.reset();
opened.clear();
MockBinding.createPort("/dev/mock-relay", {});
MockBinding.createPort("/dev/mock-rfid", {});
const agent2 = await createEdgeAgent(config, { logger: silentLogger, clock: systemClock, binding: MockBinding, removeAfterMs: 20 });
const t0 = performance.now();
await agent2.start();
while (agent2.status().devices["main-in"] !== "ok" || !opened.has("/dev/mock-relay")) await sleep(10);
const relay2 = opened.get("/dev/mock-relay")!;
const rfid2 = opened.get("/dev/mock-rfid")!;
const w2 = relay2.write.bind(relay2);
relay2.write = async (b: Buffer) => {
  if (b[2] === 0x01) onRelay?.();
  return w2(b);
};
(rfid as unknown as { emitData: unknown }).emitData = rfid2.emitData.bind(rfid2);
while (!agent2.status().replay?.active && agent2.status().outboxDepth > 0) await sleep(5);
const during = await taps(100_000, () => agent2.status().outboxDepth > 2000);
while (agent2.status().outboxDepth > 0) await sleep(20);
const drainS = (performance.now() - t0) / 1000;
console.log(`backlog ${BACKLOG.toLocaleString("en")} events drained in ${drainS.toFixed(1)} s = ${(BACKLOG / drainS).toFixed(0)} ev/s (batch 500, window 4, fsync per commit)`);
console.log(`door tap → relay ON, uplink idle:     ${stats(base)}`);
console.log(`door tap → relay ON, during replay:   ${stats(during)}`);
await agent2.stop();
await server.endAsync();
await new Promise<void>((r) => srv.close(() => r()));
await new Promise<void>((r) => broker.close(() => r()));
rmSync(dir, { recursive: true, force: true });
process.exit(0);
