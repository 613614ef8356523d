import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { SerialPortMock } from "serialport";
import { createEdgeAgent, type EdgeAgent } from "./agent.ts";
import { parseEdgeConfig } from "./config.ts";
import { main } from "./cli.ts";
import { startTestBroker, until } from "./uplink/test-broker.ts";
import { encodeRdm6300 } from "./devices/rdm6300/decode.ts";
import { fromHex, toHex } from "./devices/frame.ts";
import { silentLogger, systemClock } from "../../protocol/clock.ts";
import { topics } from "../../protocol/topics.ts";
import { toRanges } from "../../protocol/messages.ts";
import type { HazriEvent } from "../../protocol/events.ts";

const MockBinding = SerialPortMock.binding;
type MockPort = Awaited<ReturnType<typeof MockBinding.open>>;
const opened = new Map<string, MockPort>();
const origOpen = MockBinding.open.bind(MockBinding);
(MockBinding as { open: typeof MockBinding.open }).open = async (o) => {
  const p = await origOpen(o);
  opened.set(o.path, p);
  return p;
};

let dir: string;
let broker: Awaited<ReturnType<typeof startTestBroker>>;
let server: MqttClient;
let agent: EdgeAgent | null;
let received: HazriEvent[];

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "hazri-agent-"));
  writeFileSync(
    path.join(dir, "members.yaml"),
    'members:\n  - { id: m1, cards: ["62E3086CED"], status: active }\n  - { id: m2, cards: ["01026F6C3A"], status: suspended }\n',
  );
  broker = await startTestBroker();
  received = [];
  server = await mqtt.connectAsync(broker.url, { clientId: "fake-server" });
  await server.subscribeAsync({ [topics.allUp("events")]: { qos: 1 }, [topics.allUp("time")]: { qos: 1 } });
  server.on("message", (t, payload) => {
    const b = JSON.parse(payload.toString());
    if (t.endsWith("/up/time")) {
      // like the real server: without a reply the edge holds this boot's unsynced events up to timeSyncWaitMs
      server.publish(topics.down("lhr-01", "time"), JSON.stringify({ v: 1, centerId: "lhr-01", edgeTime: b.edgeTime, serverTime: Date.now() }), { qos: 1 });
      return;
    }
    received.push(...b.events);
    const seqs = b.events.map((e: HazriEvent) => e.seq);
    server.publish(topics.down("lhr-01", "ack"), JSON.stringify({ v: 1, centerId: "lhr-01", acked: toRanges(seqs), rejected: [], serverTime: Date.now() }), { qos: 1 });
  });
  MockBinding.createPort("/dev/mock-relay", { record: true });
  MockBinding.createPort("/dev/mock-rfid", { maxReadSize: 3 });
  agent = null;
});

afterEach(async () => {
  await agent?.stop();
  await server.endAsync();
  await broker.close();
  MockBinding.reset();
  opened.clear();
  rmSync(dir, { recursive: true, force: true });
});

const config = () =>
  parseEdgeConfig(
    {
      center: "lhr-01",
      dataDir: "./data",
      uplink: { url: broker.url, heartbeatS: 3600 },
      lan: { host: "127.0.0.1", port: 0 },
      members: "./members.yaml",
      doors: [{ id: "main", relay: { path: "/dev/mock-relay" }, unlockMs: 200 }],
      readers: [{ id: "main-in", type: "rdm6300", door: "main", direction: "in", path: "/dev/mock-rfid" }],
      seats: [{ id: "s001", zone: "z1", node: "cw-s001" }],
    },
    dir,
  );

describe("edge agent on MockBinding + aedes", () => {
  it("valid card → relay ON then OFF, badge + door events reach the server and are trimmed; garbage never grants", async () => {
    agent = await createEdgeAgent(config(), { logger: silentLogger, clock: systemClock, binding: MockBinding });
    await agent.start();
    await until(() => agent!.status().devices["main-in"] === "ok" && agent!.status().devices.main === "ok", "devices open");
    await until(() => agent!.status().uplink === "up", "uplink up");
    const rfid = opened.get("/dev/mock-rfid")!;
    const relay = opened.get("/dev/mock-relay")!;
    // On open the agent re-sends the desired (locked) state: the board powers up off (§8.1).
    await until(() => toHex(relay.recording) === "a00100a1", "resync OFF on open");
    // garbage + bad checksum + suspended card first: no relay bytes at all
    rfid.emitData(Buffer.from(fromHex("FF 00 02 41 42 " + "02 36 32 45 33 30 38 36 43 45 44 30 39 03")));
    rfid.emitData(Buffer.from(encodeRdm6300("01026F6C3A")));
    await until(() => received.some((e) => e.type === "badge"), "denied badge");
    expect(toHex(relay.recording)).toBe("a00100a1"); // nothing since the resync
    expect(agent.status().readers["main-in"]?.checksumErrors).toBe(1);
    rfid.emitData(Buffer.from(encodeRdm6300("62E3086CED")));
    await until(() => toHex(relay.recording) === "a00100a1" + "a00101a2a00100a1", "relay on then off");
    await until(() => received.some((e) => e.type === "door" && e.state === "locked"), "locked event");
    const badges = received.filter((e) => e.type === "badge");
    expect(badges.map((b) => [b.cardId, b.decision, b.reason, b.memberId])).toEqual([
      ["01026F6C3A", "denied", "suspended", "m2"],
      ["62E3086CED", "granted", "ok", "m1"],
    ]);
    await until(() => agent!.status().outboxDepth === 0, "outbox drained");
    expect(received.some((e) => e.type === "heartbeat")).toBe(true);
    expect(received.some((e) => e.type === "uplink" && e.state === "up")).toBe(true);
  });

  it("seat sensor on the embedded LAN broker produces seat events", async () => {
    agent = await createEdgeAgent(config(), { logger: silentLogger, clock: systemClock, binding: MockBinding });
    await agent.start();
    const node = await mqtt.connectAsync(`mqtt://127.0.0.1:${agent.status().lanPort}`, { clientId: "cw-s001" });
    await node.publishAsync("cw-s001/status", "online", { qos: 1, retain: true });
    await node.publishAsync("cw-s001/binary_sensor/seat_occupied/state", "ON", { qos: 1, retain: true });
    await until(() => received.some((e) => e.type === "seat" && e.state === "occupied"), "seat event");
    await node.endAsync();
  });
});

describe("cli main()", () => {
  it("bad config → every error printed, exit 2", async () => {
    const f = path.join(dir, "bad.yaml");
    writeFileSync(f, "center: 'bad center'\ndataDir: d\nuplink: { url: 'http://x' }\nlan: {}\nmembers: m.yaml\nbogus: 1\n");
    let out = "";
    expect(await main(["edge", "--config", f], { stderr: (s) => void (out += s) })).toBe(2);
    expect(out).toContain("CONFIG_INVALID");
    expect(out).toContain("center:");
    expect(out).toContain("uplink.url:");
    expect(out).toMatch(/bogus/);
    expect(await main(["--config", path.join(dir, "missing.yaml")], { stderr: (s) => void (out += s) })).toBe(2);
    expect(out).toContain("CONFIG_NOT_FOUND");
    expect(await main([], { stderr: () => {} })).toBe(2);
  });
});
