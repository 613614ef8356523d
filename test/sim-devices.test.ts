/**
 * The simulated devices on REAL socat ptys and a REAL aedes broker: what the
 * edge would see on the host side of each pty / on its LAN broker must be the
 * device-protocols.md byte vectors (§1.5 RDM6300, §8.1 LCUS, §7.4 ESPHome).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Aedes } from "aedes";
import mqtt, { type MqttClient } from "mqtt";
import { SerialPort } from "serialport";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SimCardReader } from "../firmware-sim/src/devices/rdm6300.ts";
import { SimRelay } from "../firmware-sim/src/devices/relay.ts";
import { SimSeatSensor } from "../firmware-sim/src/devices/seat-sensor.ts";
import { fromHex, toHex } from "../firmware-sim/src/devices/rdm6300-wire.ts";
import { createSimCenter } from "../firmware-sim/src/center.ts";
import { readGroundTruth } from "../firmware-sim/src/ground-truth.ts";
import { startPtyPair, type PtyPair } from "../firmware-sim/src/pty.ts";
import { edgeConfigFragment } from "../firmware-sim/src/cli.ts";
import { writeFile } from "node:fs/promises";
import { waitFor } from "./harness/wait.ts";

const V1 = "02 36 32 45 33 30 38 36 43 45 44 30 38 03"; // §1.5 62E3086CED
const V1_BAD = "02 36 32 45 33 30 38 36 43 45 44 30 39 03"; // §1.5 checksum 09

let dir: string;
const cleanups: Array<() => Promise<unknown>> = [];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hazri-simdev-"));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function pair(name: string): Promise<PtyPair> {
  const p = await startPtyPair({ dir, name });
  cleanups.push(() => p.stop());
  return p;
}
async function hostPort(p: string): Promise<{ port: SerialPort; bytes: () => Buffer; chunks: () => number }> {
  const port = await new Promise<SerialPort>((resolve, reject) => {
    const s: SerialPort = new SerialPort({ path: p, baudRate: 9600 }, (e) => (e ? reject(e) : resolve(s)));
  });
  cleanups.push(() => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())));
  let got = Buffer.alloc(0);
  let n = 0;
  port.on("data", (d: Buffer) => {
    got = Buffer.concat([got, d]);
    n++;
  });
  return { port, bytes: () => got, chunks: () => n };
}
const hex = (b: Buffer) => toHex(new Uint8Array(b));

describe("SimCardReader on a real pty", () => {
  it("a tap puts the §1.5 vector on the host side, repeated every ~100 ms while held", async () => {
    const p = await pair("rfid0");
    const reader = await SimCardReader.open({ path: p.devicePath });
    cleanups.push(() => reader.close());
    const host = await hostPort(p.hostPath);
    const before = performance.now();
    const firstAt = await reader.tap("62E3086CED", { holdMs: 250 });
    expect(firstAt).toBeGreaterThan(before);
    expect(firstAt).toBeLessThan(before + 150);
    await waitFor(() => host.bytes().length >= 42, { timeoutMs: 3000, what: "3 frames on the host side" });
    expect(hex(host.bytes())).toBe([V1, V1, V1].join(" ")); // frames at 0, 100, 200 ms of a 250 ms hold
    expect(reader.framesSent).toBe(3);
  });

  it("behaviours: corruptChecksum, noise, dripFeed, silent, sendRaw", async () => {
    const p = await pair("rfid1");
    const reader = await SimCardReader.open({ path: p.devicePath });
    cleanups.push(() => reader.close());
    const host = await hostPort(p.hostPath);

    const restore = reader.setBehavior({ corruptChecksum: true, noise: fromHex("FF00") });
    await reader.tap("62E3086CED", { holdMs: 50 });
    await waitFor(() => host.bytes().length >= 16, { timeoutMs: 3000, what: "noise + corrupt frame" });
    expect(hex(host.bytes())).toBe(`FF 00 ${V1_BAD}`);
    restore();

    reader.setBehavior({ silent: true });
    expect(Number.isNaN(await reader.tap("01026F6C3A", { holdMs: 50 }))).toBe(true);
    reader.resetBehavior();
    await reader.sendRaw(fromHex("55")); // marker: anything the silent tap wrote would arrive before it
    await waitFor(() => host.bytes().length >= 17, { timeoutMs: 3000, what: "marker byte" });
    expect(hex(host.bytes().subarray(16))).toBe("55");

    const chunksBefore = host.chunks();
    reader.setBehavior({ dripFeedMs: 3 });
    await reader.tap("01026F6C3A", { holdMs: 50 });
    await waitFor(() => host.bytes().length >= 31, { timeoutMs: 3000, what: "drip-fed frame" });
    expect(hex(host.bytes().subarray(17))).toBe("02 30 31 30 32 36 46 36 43 33 41 33 41 03");
    expect(host.chunks() - chunksBefore).toBeGreaterThan(3); // really arrived in pieces
  });
});

describe("SimRelay on a real pty", () => {
  it("decodes LCUS commands written on the host side; ignores a bad checksum", async () => {
    const p = await pair("relay0");
    const relay = await SimRelay.open({ path: p.devicePath });
    cleanups.push(() => relay.close());
    const host = await hostPort(p.hostPath);
    host.port.write(fromHex("A0 01 01 A2"));
    const on = await relay.waitFor((c) => c.on, 3000);
    expect(on).toMatchObject({ channel: 1, on: true });
    expect(relay.isOn(1)).toBe(true);
    host.port.write(fromHex("A0 01 01 A3 FF A0 01")); // bad checksum, noise, half of "off"
    host.port.write(fromHex("00 A1"));
    await relay.waitFor((c) => !c.on, 3000);
    expect(relay.history.map((c) => [c.channel, c.on])).toEqual([
      [1, true],
      [1, false],
    ]);
    expect(relay.badChecksums).toBe(1);
    expect(relay.isOn(1)).toBe(false);
    await expect(relay.waitFor((c) => c.channel === 3, 100, { since: relay.mark() })).rejects.toMatchObject({
      code: "DEVICE_TIMEOUT",
    });
  });
});

describe("SimSeatSensor and SimCenter on a real aedes broker", () => {
  let server: net.Server;
  let broker: Aedes;
  let url: string;
  let sub: MqttClient;
  const seen: Array<{ topic: string; payload: string; retain: boolean }> = [];
  beforeAll(async () => {
    broker = await Aedes.createBroker();
    server = net.createServer((s) => {
      s.setNoDelay(true);
      broker.handle(s);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sub = await mqtt.connectAsync(url, { clientId: "observer", reconnectPeriod: 0 });
    await sub.subscribeAsync("#", { qos: 1 });
    sub.on("message", (topic, payload, packet) => seen.push({ topic, payload: payload.toString(), retain: packet.retain }));
  });
  afterAll(async () => {
    await sub.endAsync();
    await new Promise<void>((r) => broker.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  });
  const arrived = (topic: string, payload: string) =>
    waitFor(() => seen.find((m) => m.topic === topic && m.payload === payload), { timeoutMs: 5000, what: `${topic}=${payload}` });

  it("birth, ON/OFF, garbage, and the Last Will on an abrupt close", async () => {
    const s = new SimSeatSensor({ node: "cw-lhr-f2-s014", object: "seat_occupied" });
    cleanups.push(() => s.close());
    await s.connect(url);
    await arrived("cw-lhr-f2-s014/status", "online");
    const disc = await waitFor(() => seen.find((m) => m.topic === "homeassistant/binary_sensor/cw-lhr-f2-s014/seat_occupied/config"), {
      timeoutMs: 5000,
      what: "HA discovery",
    });
    expect(JSON.parse(disc.payload)).toMatchObject({
      state_topic: "cw-lhr-f2-s014/binary_sensor/seat_occupied/state",
      availability_topic: "cw-lhr-f2-s014/status",
      payload_on: "ON",
      device_class: "occupancy",
    });
    await s.setOccupied(true);
    await arrived("cw-lhr-f2-s014/binary_sensor/seat_occupied/state", "ON");
    await s.setOccupied(false);
    await arrived("cw-lhr-f2-s014/binary_sensor/seat_occupied/state", "OFF");
    await s.garbage("maybe?");
    await arrived("cw-lhr-f2-s014/binary_sensor/seat_occupied/state", "maybe?");
    seen.length = 0;
    await s.goOffline();
    await arrived("cw-lhr-f2-s014/status", "offline"); // LWT (MQTT 3.1.1 §3.1.2.5)
    await s.comeBack();
    await arrived("cw-lhr-f2-s014/status", "online");
    await arrived("cw-lhr-f2-s014/binary_sensor/seat_occupied/state", "OFF"); // state re-sent after reconnect
    // Retained: a late subscriber sees the last state.
    const late = await mqtt.connectAsync(url, { clientId: "late", reconnectPeriod: 0 });
    const got = new Promise<string>((r) => late.on("message", (_t, p) => r(p.toString())));
    await late.subscribeAsync("cw-lhr-f2-s014/binary_sensor/seat_occupied/state", { qos: 1 });
    expect(await got).toBe("OFF");
    await late.endAsync();
  });

  it("`hazri sim --lan` as a real process: seats come online on the broker, SIGTERM stops it cleanly (LWT, ptys gone)", async () => {
    const bin = path.resolve(import.meta.dirname, "../bin/hazri.mjs");
    const args = [bin, "sim", "--center", "pew-04", "--dir", dir, "--seed", "11", "--seats", "2", "--lan", url, "--speed", "60"];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await once(child, "exit");
      }
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = once(child, "exit");
    await waitFor(() => stdout.includes("seats connected"), { timeoutMs: 20_000, what: `seats connected; stderr: ${stderr}` });
    await arrived("pew-04-s01/status", "online");
    await arrived("pew-04-s02/status", "online");
    expect(existsSync(path.join(dir, "rfid-main-in"))).toBe(true);
    child.kill("SIGTERM");
    const [code] = await exited;
    expect(code).toBe(0);
    expect(stdout).toMatch(/summary: \d+\/\d+ actions, \d+ taps skipped \(reader busy\) \(stopped early\)/);
    expect(existsSync(path.join(dir, "rfid-main-in"))).toBe(false);
    await arrived("pew-04-s01/status", "offline");
  });

  it("SimCenter: no listener → undelivered and nothing queued; unplug/replug a reader", async () => {
    const center = await createSimCenter({
      centerId: "lhr-02",
      dir,
      seed: 1,
      readers: [{ id: "r1", door: "d1", direction: "in" }],
      doors: [{ id: "d1", channel: 1 }],
      seats: [],
      members: [{ id: "m1", cards: ["62E3086CED"], status: "active" }],
    });
    cleanups.push(() => center.stop());
    const e = center.devices.readers.r1!;
    expect((await center.tap("r1", "62E3086CED", { holdMs: 50 })).record).toMatchObject({ delivered: false, undelivered: "no_listener" });
    const host = await hostPort(e.hostPath);
    const ok = await center.tap("r1", "62E3086CED", { holdMs: 50 });
    expect(ok.record).toMatchObject({ delivered: true, expected: "granted" });
    await waitFor(() => host.bytes().length >= 14, { timeoutMs: 3000, what: "frame" });
    expect(hex(host.bytes())).toBe(V1); // the undelivered tap left nothing queued in the pty

    await center.unplug("reader", "r1");
    expect(existsSync(e.hostPath)).toBe(false);
    expect((await center.tap("r1", "62E3086CED", { holdMs: 50 })).record).toMatchObject({ undelivered: "unplugged" });
    await center.replug("reader", "r1");
    expect(existsSync(e.hostPath)).toBe(true);
    const host2 = await hostPort(center.devices.readers.r1!.hostPath);
    await center.tap("r1", "01026F6C3A", { holdMs: 50 });
    await waitFor(() => host2.bytes().length >= 14, { timeoutMs: 3000, what: "frame after replug" });
    expect(hex(host2.bytes())).toBe("02 30 31 30 32 36 46 36 43 33 41 33 41 03");
    const kinds = readGroundTruth(center.groundTruth.file).map((g) => (g.kind === "device" ? `${g.kind}:${g.state}` : g.kind));
    expect(kinds).toEqual(["start", "tap", "tap", "device:unplugged", "tap", "device:replugged", "tap"]);
  });

  it("createSimCenter: reader + relay ptys, seats, ground truth, clean stop", async () => {
    const center = await createSimCenter({
      centerId: "lhr-01",
      dir,
      seed: 7,
      lanBrokerUrl: url,
      readers: [{ id: "main-in", door: "main", direction: "in" }],
      doors: [{ id: "main", channel: 1 }],
      seats: [{ id: "s1", zone: "f2", node: "lhr01-s1", object: "seat_occupied" }],
      members: [
        { id: "m1", cards: ["62E3086CED"], status: "active" },
        { id: "m2", cards: ["01026F6C3A"], status: "suspended" },
      ],
    });
    cleanups.push(() => center.stop());
    const r = center.devices.readers["main-in"]!;
    const host = await hostPort(r.hostPath);
    const out = await center.tap("main-in", "62E3086CED", { holdMs: 50 });
    expect(out).toMatchObject({ expected: "granted", reason: "ok", memberId: "m1" });
    expect((await center.tap("main-in", "01026F6C3A", { holdMs: 50 })).reason).toBe("suspended");
    expect((await center.tap("main-in", "AAAAAAAAAA", { holdMs: 50 })).reason).toBe("unknown_card");
    await waitFor(() => host.bytes().length >= 42, { timeoutMs: 3000, what: "3 taps" });
    expect(hex(host.bytes().subarray(0, 14))).toBe(V1);

    const relayHost = await hostPort(center.devices.relays.main!.hostPath);
    relayHost.port.write(fromHex("A0 01 01 A2"));
    await center.devices.relays.main!.relay.waitFor((c) => c.on, 3000);

    await center.setSeat("s1", true);
    await arrived("lhr01-s1/binary_sensor/seat_occupied/state", "ON");

    const hostPath = r.hostPath;
    await center.stop();
    expect(existsSync(hostPath)).toBe(false);
    const gt = readGroundTruth(center.groundTruth.file);
    expect(gt.map((g) => g.kind)).toEqual(["start", "seat_status", "tap", "tap", "tap", "relay", "seat", "seat_status", "stop"]);
    expect(gt.find((g) => g.kind === "relay")).toMatchObject({ door: "main", channel: 1, on: true });
    expect(gt.find((g) => g.kind === "seat")).toMatchObject({ seat: "s1", occupied: true, published: true });
  });
});

// Cross-check against the real edge agent, run as a process through the CLI
// (`hazri edge`), never imported: the edge must read every delivered sim tap
// with the decision the sim's own model expects, and drive the sim's relay.
describe("sim ⇄ real edge agent process", () => {
  it("every delivered tap is a badge with the expected decision; grants energise the relay", async () => {
    const lanPort = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const deadPort = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const members = [
      { id: "m-ok", cards: ["62E3086CED"], status: "active" as const },
      { id: "m-susp", cards: ["01026F6C3A"], status: "suspended" as const },
      { id: "m-exp", cards: ["0801161DD6"], status: "active" as const, validUntil: "2020-01-01" },
    ];
    const center = await createSimCenter({
      centerId: "lhr-09",
      dir,
      seed: 3,
      readers: [{ id: "front-in", door: "front", direction: "in" }],
      doors: [{ id: "front", channel: 1 }],
      seats: [],
      members,
    });
    cleanups.push(() => center.stop());
    const membersFile = path.join(dir, "members.json");
    await writeFile(membersFile, JSON.stringify({ members }));
    const cfg = {
      ...edgeConfigFragment(center, membersFile),
      dataDir: path.join(dir, "edge-data"),
      uplink: { url: `mqtt://127.0.0.1:${deadPort}` },
      lan: { port: lanPort },
    };
    const cfgFile = path.join(dir, "edge.json");
    await writeFile(cfgFile, JSON.stringify(cfg));
    const bin = path.resolve(import.meta.dirname, "../bin/hazri.mjs");
    const edge = spawn(process.execPath, [bin, "edge", "--config", cfgFile], { stdio: ["ignore", "pipe", "pipe"] });
    cleanups.push(async () => {
      if (edge.exitCode === null && edge.signalCode === null) {
        edge.kill("SIGKILL");
        await once(edge, "exit");
      }
    });
    let out = "";
    let err = "";
    edge.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    edge.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    const logs = () =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitFor(() => logs().some((l) => l.msg === "serial port open" && l.device === "front-in"), {
      timeoutMs: 20_000,
      what: `edge opened the reader; stderr: ${err}`,
    });
    const relay = center.devices.relays.front!.relay;
    const truths = [];
    for (const card of ["62E3086CED", "01026F6C3A", "0801161DD6", "ABCDEF0123", "62E3086CED"]) {
      const mark = relay.mark();
      const t = await center.tap("front-in", card, { holdMs: 300 });
      truths.push(t);
      if (t.expected === "granted") {
        const cmd = await relay.waitFor((c) => c.on && c.channel === 1, 5000, { since: mark });
        expect(cmd.at - t.firstFrameAt).toBeLessThan(1000); // tap → unlock through the edge
      }
    }
    const badges = await waitFor(
      () => {
        const b = logs().filter((l) => l.msg === "badge");
        return b.length >= truths.length ? b : null;
      },
      { timeoutMs: 5000, what: "5 badge logs" },
    );
    expect(badges.map((b) => [b.card, b.decision, b.reason])).toEqual(truths.map((t) => [t.record.kind === "tap" && t.record.cardId, t.expected, t.reason]));
    expect(truths.map((t) => t.reason)).toEqual(["ok", "suspended", "plan_expired", "unknown_card", "ok"]);
    expect(relay.badChecksums).toBe(0);
    edge.kill("SIGTERM");
    const [code] = await once(edge, "exit");
    expect(code).toBe(0);
  });
});
