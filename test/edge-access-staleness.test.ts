/**
 * Cache staleness after a long outage (reliability matrix DA-3), through the
 * agent: the member cache persisted on disk was last confirmed 73 h ago and the
 * WAN is down, so after a restart only staff get in (member: stale_cache;
 * staff: granted, flagged stale_cache). At 71 h the same member is granted.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { SerialPortMock } from "serialport";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEdgeAgent, type EdgeAgent } from "../edge/src/agent.ts";
import { nodeCacheFs, writeCacheFile } from "../edge/src/access/cache-file.ts";
import { memberCacheFile } from "../edge/src/access/member-cache.ts";
import { parseEdgeConfig } from "../edge/src/config.ts";
import { encodeRdm6300 } from "../edge/src/devices/rdm6300/decode.ts";
import { openOutbox } from "../edge/src/outbox/outbox.ts";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import type { BadgeEvent } from "../protocol/events.ts";
import { freePort, makeTempDir, removeDir, waitFor } from "./harness/index.ts";

const MockBinding = SerialPortMock.binding;
type MockPort = Awaited<ReturnType<typeof MockBinding.open>>;
const opened = new Map<string, MockPort>();
const origOpen = MockBinding.open.bind(MockBinding);
(MockBinding as { open: typeof MockBinding.open }).open = async (o) => {
  const p = await origOpen(o);
  opened.set(o.path, p);
  return p;
};
const C = "lhr-01";
const H = 3600_000;
let dir: string;
let agent: EdgeAgent | null = null;

beforeEach(async () => {
  dir = await makeTempDir("edge-stale");
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
  await removeDir(dir);
});

async function run(confirmedAgoH: number): Promise<BadgeEvent[]> {
  await writeCacheFile(nodeCacheFs, memberCacheFile(path.join(dir, "data")), { centerId: C, version: 7, confirmedAt: Date.now() - confirmedAgoH * H }, [
    { id: "member", cards: ["62E3086CED"], status: "active", staff: false },
    { id: "staff", cards: ["01026F6C3A"], status: "active", staff: true },
  ]);
  const config = parseEdgeConfig(
    {
      center: C,
      dataDir: "./data",
      uplink: { url: `mqtt://127.0.0.1:${await freePort()}`, heartbeatS: 3600 }, // WAN down
      lan: { host: "127.0.0.1", port: 0 },
      members: "./members.yaml",
      memberCache: { publicKeyFile: "./cache.pub" },
      doors: [{ id: "main", relay: { path: "/dev/mock-relay" }, unlockMs: 100 }],
      readers: [{ id: "main-in", type: "rdm6300", door: "main", direction: "in", path: "/dev/mock-rfid" }],
    },
    dir,
  );
  agent = await createEdgeAgent(config, { logger: silentLogger, clock: systemClock, binding: MockBinding, removeAfterMs: 20 });
  await agent.start();
  await waitFor(() => agent!.status().devices["main-in"] === "ok", { timeoutMs: 10_000, what: "reader open" });
  expect(agent.status().memberCache).toMatchObject({ version: 7, members: 2 });
  for (const card of ["62E3086CED", "01026F6C3A"]) {
    const n = (agent.status().readers["main-in"]?.presentations ?? 0) + 1;
    opened.get("/dev/mock-rfid")!.emitData(Buffer.from(encodeRdm6300(card)));
    await waitFor(() => (agent!.status().readers["main-in"]?.presentations ?? 0) >= n || undefined, { timeoutMs: 5000, what: `tap ${card}` });
  }
  await agent.stop();
  agent = null;
  const ob = openOutbox({ path: path.join(dir, "data/outbox.sqlite"), centerId: C, bootId: "reader-x", clock: systemClock, synced: () => false });
  const badges = ob.nextBatch(1000, { now: 0, resendAfterMs: 0 }).filter((e): e is BadgeEvent => e.type === "badge");
  ob.close();
  return badges;
}

describe("member cache staleness across a restart without WAN", () => {
  it("73 h since the last confirmation: staff only; 71 h: members too", async () => {
    const stale = await run(73);
    expect(stale.map((b) => [b.memberId, b.decision, b.reason, b.flags ?? []])).toEqual([
      ["member", "denied", "stale_cache", []],
      ["staff", "granted", "ok", ["stale_cache"]],
    ]);
    MockBinding.reset();
    opened.clear();
    MockBinding.createPort("/dev/mock-relay", {});
    MockBinding.createPort("/dev/mock-rfid", {});
    const fresh = (await run(71)).slice(2);
    expect(fresh.map((b) => [b.memberId, b.decision, b.reason])).toEqual([
      ["member", "granted", "ok"],
      ["staff", "granted", "ok"],
    ]);
  });
});
