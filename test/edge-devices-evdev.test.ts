/**
 * HID keyboard-wedge through Linux evdev records (device-protocols.md §3.1),
 * end to end through the agent. A real /dev/input device cannot be created
 * here, so a FIFO carries the same 24-byte input_event records the kernel
 * would deliver; the agent reads it exactly as it would read
 * /dev/input/by-id/*-event-kbd (fs stream, no EVIOCGRAB). Writer closing =
 * device unplugged (end of stream), a new writer = replugged.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startPtyPair, type PtyPair } from "../firmware-sim/src/pty.ts";
import { SimRelay } from "../firmware-sim/src/devices/relay.ts";
import { createEdgeAgent, type EdgeAgent } from "../edge/src/agent.ts";
import { parseEdgeConfig } from "../edge/src/config.ts";
import { encodeEvdevKeys } from "../edge/src/devices/wedge/evdev.ts";
import { startTestBroker, until } from "../edge/src/uplink/test-broker.ts";
import { silentLogger, systemClock } from "../protocol/clock.ts";

let dir: string;
let fifo: string;
let relayPty: PtyPair;
let relay: SimRelay;
let broker: Awaited<ReturnType<typeof startTestBroker>>;
let agent: EdgeAgent;
let writer: FileHandle | null = null;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "hazri-evdev-"));
  fifo = path.join(dir, "usb-reader-event-kbd");
  execFileSync("mkfifo", [fifo]);
  writeFileSync(path.join(dir, "members.yaml"), 'members:\n  - { id: m1, cards: ["E3086CED", "01161DD6"], status: active }\n');
  relayPty = await startPtyPair({ dir, name: "relay" });
  relay = await SimRelay.open({ path: relayPty.devicePath });
  broker = await startTestBroker();
  const config = parseEdgeConfig(
    {
      center: "lhr-01",
      dataDir: "./data",
      uplink: { url: broker.url, heartbeatS: 3600 },
      lan: { host: "127.0.0.1", port: 0 },
      members: "./members.yaml",
      doors: [{ id: "main", relay: { path: relayPty.hostPath }, unlockMs: 300 }],
      readers: [{ id: "kbd", type: "wedge", input: "evdev", door: "main", direction: "in", path: fifo }],
    },
    dir,
  );
  agent = await createEdgeAgent(config, { logger: silentLogger, clock: systemClock, serialBackoff: { initialMs: 50, maxMs: 200 } });
  await agent.start();
  writer = await open(fifo, "w"); // completes once the agent has the read end open
  await until(() => agent.status().devices.kbd === "ok", "evdev reader open", 10_000);
});

afterAll(async () => {
  await agent?.stop();
  // A reopen may be blocked in open(2) on the FIFO waiting for a writer: give it one so the thread returns.
  const w = await Promise.race([open(fifo, "w"), new Promise<null>((r) => setTimeout(() => r(null), 500))]);
  await w?.close();
  await writer?.close().catch(() => undefined);
  await relay?.close();
  await relayPty?.stop();
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("keyboard wedge via evdev records", () => {
  it("key-down records of 3808980205⏎ → card E3086CED granted → relay ON", async () => {
    const since = relay.mark();
    const keys = encodeEvdevKeys("3808980205\n");
    await writer!.write(keys.subarray(0, 100)); // split mid-record
    await writer!.write(keys.subarray(100));
    await relay.waitFor((c) => c.on, 5000, { since });
    expect(agent.status().readers.kbd).toMatchObject({ granted: 1, formatErrors: 0 });
  });

  it("a dropped keystroke (9 digits) is rejected; device gone (end of stream) → down; back → ok and grants", async () => {
    await writer!.write(encodeEvdevKeys("380898020\n"));
    await until(() => (agent.status().readers.kbd?.formatErrors ?? 0) === 1, "short line rejected");
    await writer!.close();
    writer = null;
    await until(() => agent.status().devices.kbd === "down", "reader down after its stream ended");
    writer = await open(fifo, "w");
    await until(() => agent.status().devices.kbd === "ok", "reader back", 10_000);
    const since = relay.mark();
    // Another card: the same card again within 500 ms would rightly be a repeat of one presentation (§1.3).
    await writer.write(encodeEvdevKeys("0018226646\n"));
    await relay.waitFor((c) => c.on, 5000, { since });
  });
});
