/**
 * The alive marker through the agent (mock serial, WAN down): the boot event is the first event of a
 * run and names how the previous run ended; the previous run's last alive time is a lower bound for
 * "now" while the clock is unsynced, so a box that boots with its clock far behind (no RTC,
 * fake-hwclock) does not under-count the member cache's age.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { SerialPortMock } from "serialport";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger, type Clock } from "../../../protocol/clock.ts";
import type { BadgeEvent, BootEvent, HazriEvent } from "../../../protocol/events.ts";
import { createEdgeAgent, type EdgeAgent } from "../agent.ts";
import { nodeCacheFs, writeCacheFile } from "../access/cache-file.ts";
import { memberCacheFile } from "../access/member-cache.ts";
import { parseEdgeConfig } from "../config.ts";
import { encodeRdm6300 } from "../devices/rdm6300/decode.ts";
import { openOutbox } from "../outbox/outbox.ts";
import { until } from "../uplink/test-broker.ts";
import { aliveMarkerFile, encodeMark } from "./alive-marker.ts";

const MockBinding = SerialPortMock.binding;
type MockPort = Awaited<ReturnType<typeof MockBinding.open>>;
const opened = new Map<string, MockPort>();
const origOpen = MockBinding.open.bind(MockBinding);
(MockBinding as { open: typeof MockBinding.open }).open = async (o) => {
  const p = await origOpen(o);
  opened.set(o.path, p);
  return p;
};
const H = 3600_000;
let dir: string;
let agent: EdgeAgent | null = null;

const closedPort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "hazri-alive-agent-"));
  writeFileSync(path.join(dir, "members.yaml"), "members: []\n");
  writeFileSync(path.join(dir, "cache.pub"), generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString());
  mkdirSync(path.join(dir, "data"), { recursive: true });
  MockBinding.createPort("/dev/mock-relay", {});
  MockBinding.createPort("/dev/mock-rfid", {});
});
afterEach(async () => {
  await agent?.stop();
  agent = null;
  MockBinding.reset();
  opened.clear();
  rmSync(dir, { recursive: true, force: true });
});

const stored = (): HazriEvent[] => {
  const ob = openOutbox({ path: path.join(dir, "data/outbox.sqlite"), centerId: "lhr-01", bootId: "reader-x", clock: { now: () => 0, mono: () => 0 }, synced: () => false });
  const all = ob.nextBatch(100_000, { now: 0, resendAfterMs: 0 });
  ob.close();
  return all;
};

async function run(clock: Clock, withCache = false): Promise<void> {
  const config = parseEdgeConfig(
    {
      center: "lhr-01",
      dataDir: "./data",
      uplink: { url: `mqtt://127.0.0.1:${await closedPort()}`, heartbeatS: 3600 }, // WAN down
      lan: { host: "127.0.0.1", port: 0 },
      members: "./members.yaml",
      ...(withCache ? { memberCache: { publicKeyFile: "./cache.pub" } } : {}),
      doors: [{ id: "main", relay: { path: "/dev/mock-relay" }, unlockMs: 100 }],
      readers: [{ id: "main-in", type: "rdm6300", door: "main", direction: "in", path: "/dev/mock-rfid" }],
    },
    dir,
  );
  agent = await createEdgeAgent(config, { logger: silentLogger, clock, binding: MockBinding, removeAfterMs: 20 });
  await agent.start();
  await until(() => agent!.status().devices["main-in"] === "ok", "reader open", 10_000);
}
const stop = async () => {
  await agent?.stop();
  agent = null;
  MockBinding.reset();
  opened.clear();
  MockBinding.createPort("/dev/mock-relay", {});
  MockBinding.createPort("/dev/mock-rfid", {});
};
const real: Clock = { now: () => Date.now(), mono: () => performance.now() };

describe("boot event", () => {
  it("first event of every run; unknown → stop after a clean stop → crash after a marker left unstopped", async () => {
    await run(real);
    const first = agent!.bootId;
    await stop();
    await run(real);
    const second = agent!.bootId;
    await stop();
    // a run that died: its last mark was never followed by a stopped one
    writeFileSync(aliveMarkerFile(path.join(dir, "data")), encodeMark({ bootId: "dead-run-1", ts: 1_770_000_000_000, synced: true, stopped: false }));
    await run(real);
    await stop();
    const boots = stored().filter((e): e is BootEvent => e.type === "boot");
    expect(boots.map((b) => [b.prevBootId, b.prevEnd, b.prevAliveSynced])).toEqual([
      [null, "unknown", false],
      [first, "stop", false], // WAN down: never synced
      ["dead-run-1", "crash", true],
    ]);
    expect(boots[2]?.prevAliveTs).toBe(1_770_000_000_000);
    expect(boots[1]?.bootId).toBe(second);
    // the boot event is the first event each run stored
    const all = stored();
    for (const b of boots) expect(all.find((e) => e.bootId === b.bootId)?.seq).toBe(b.seq);
  });
});

describe("member cache staleness with a clock that boots behind", () => {
  // True time T; the previous run was synced and alive until T - 1 min; this boot's clock reads T - 100 h.
  const behind: Clock = { now: () => Date.now() - 100 * H, mono: () => performance.now() };
  async function tapAfter(confirmedAgoH: number, marker: boolean): Promise<BadgeEvent> {
    const T = Date.now();
    await writeCacheFile(nodeCacheFs, memberCacheFile(path.join(dir, "data")), { centerId: "lhr-01", version: 3, confirmedAt: T - confirmedAgoH * H }, [
      { id: "member", cards: ["62E3086CED"], status: "active", staff: false },
    ]);
    if (marker) writeFileSync(aliveMarkerFile(path.join(dir, "data")), encodeMark({ bootId: "prev-run-1", ts: T - 60_000, synced: true, stopped: false }));
    await run(behind, true);
    opened.get("/dev/mock-rfid")!.emitData(Buffer.from(encodeRdm6300("62E3086CED")));
    await until(() => (agent!.status().readers["main-in"]?.presentations ?? 0) >= 1, "tap decided", 5000);
    await stop();
    const b = stored().filter((e): e is BadgeEvent => e.type === "badge").at(-1);
    if (!b) throw new Error("no badge event");
    return b;
  }

  it("confirmed 73 h before the last alive mark: stale (staff only), although the box clock says 27 h before", async () => {
    const b = await tapAfter(73, true);
    expect([b.decision, b.reason]).toEqual(["denied", "stale_cache"]);
  });

  it("confirmed 71 h before: still fresh", async () => {
    const b = await tapAfter(71, true);
    expect([b.decision, b.reason]).toEqual(["granted", "ok"]);
  });

  it("without a marker the behind clock cannot be bounded (documented limit): 73 h reads as fresh", async () => {
    const b = await tapAfter(73, false);
    expect([b.decision, b.reason]).toEqual(["granted", "ok"]);
  });
});
