import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SerialPortMock } from "serialport";
import { openSerialDevice, type DeviceHealth, type SerialDevice } from "./serial-device.ts";
import { Ld2410Framer } from "../devices/ld2410/framer.ts";
import { fromHex } from "../devices/frame.ts";
import { silentLogger } from "../../../protocol/clock.ts";

const MockBinding = SerialPortMock.binding;
type MockPort = Awaited<ReturnType<typeof MockBinding.open>>;

/** Timed expectation (lesson 7): poll until true or fail after a deadline. */
async function until(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const err = new Error(`timed out waiting for ${what}`);
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw err;
    await new Promise((r) => setTimeout(r, 5));
  }
}

let opened: MockPort[] = [];
const origOpen = MockBinding.open.bind(MockBinding);
(MockBinding as { open: typeof MockBinding.open }).open = async (o) => {
  const p = await origOpen(o);
  opened.push(p);
  return p;
};
let devs: SerialDevice[] = [];
let tmp: string | null = null;
afterEach(async () => {
  for (const d of devs) await d.close();
  devs = [];
  opened = [];
  MockBinding.reset();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = null;
});

const REPORT = fromHex("F4 F3 F2 F1 0D 00 02 AA 02 00 00 00 78 00 3C 78 00 55 00 F8 F7 F6 F5");

describe("serial liveness (periodic devices)", () => {
  it("degraded until the first frame, ok while frames flow, down + reopen when they stop, ok again when they resume", async () => {
    MockBinding.createPort("/dev/ttyRADAR", {});
    const d = await openSerialDevice({
      id: "radar",
      path: "/dev/ttyRADAR",
      baudRate: 256000,
      framer: new Ld2410Framer(),
      logger: silentLogger,
      binding: MockBinding,
      backoff: { initialMs: 10, maxMs: 50 },
      liveness: { expectedIntervalMs: 30, factor: 3 },
    });
    devs.push(d);
    const seen: DeviceHealth[] = [];
    d.onHealth((h) => seen.push(h));
    await until(() => d.health() === "degraded", "open, not yet talking");
    const first = opened[0]!;
    first.emitData(Buffer.from(REPORT));
    await until(() => d.health() === "ok", "first frame → ok");
    // Keep talking for a while: stays ok.
    for (let k = 0; k < 5; k++) {
      first.emitData(Buffer.from(REPORT));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(d.health()).toBe("ok");
    expect(d.counters.livenessTimeouts).toBe(0);
    // Silence: lost after ~90 ms, port closed and reopened.
    await until(() => d.counters.livenessTimeouts >= 1, "liveness timeout");
    await until(() => opened.length >= 2 && d.counters.opens >= 2, "reopened");
    expect(seen).toContain("down");
    const second = opened[opened.length - 1]!;
    second.emitData(Buffer.from(REPORT));
    await until(() => d.health() === "ok", "talking again → ok");
    expect(seen.slice(0, 3)).toEqual(["degraded", "ok", "down"]);
  });

  it("a device that opens but never talks is retried with growing back-off and never reported ok", async () => {
    MockBinding.createPort("/dev/ttyMUTE", {});
    const d = await openSerialDevice({
      id: "mute",
      path: "/dev/ttyMUTE",
      baudRate: 256000,
      framer: new Ld2410Framer(),
      logger: silentLogger,
      binding: MockBinding,
      backoff: { initialMs: 5, maxMs: 40 },
      liveness: { expectedIntervalMs: 10, factor: 2 },
    });
    devs.push(d);
    const seen: DeviceHealth[] = [];
    d.onHealth((h) => seen.push(h));
    await until(() => d.counters.livenessTimeouts >= 4, "several timeouts");
    expect(seen).not.toContain("ok");
  });

  it("fedBy caller: framed but undecodable frames do not keep the device alive; markAlive does", async () => {
    MockBinding.createPort("/dev/ttyGARBLED", {});
    const d = await openSerialDevice({
      id: "garbled",
      path: "/dev/ttyGARBLED",
      baudRate: 256000,
      framer: new Ld2410Framer(),
      logger: silentLogger,
      binding: MockBinding,
      backoff: { initialMs: 10, maxMs: 20 },
      liveness: { expectedIntervalMs: 30, factor: 2, fedBy: "caller" },
    });
    devs.push(d);
    let decodeOk = false;
    d.onFrame(() => {
      if (decodeOk) d.markAlive();
    });
    await until(() => d.health() === "degraded", "open");
    opened[0]!.emitData(Buffer.from(REPORT));
    await until(() => d.counters.frames === 1, "frame delivered");
    expect(d.health()).toBe("degraded"); // a frame, but the owner did not vouch for it
    await until(() => d.counters.livenessTimeouts >= 1, "lost despite frames");
    decodeOk = true;
    await until(() => d.counters.opens >= 2, "reopened");
    opened[opened.length - 1]!.emitData(Buffer.from(REPORT));
    await until(() => d.health() === "ok", "vouched frame → ok");
  });

  it("resolves a by-id style symlink at open and reports the real path", async () => {
    tmp = mkdtempSync(path.join(tmpdir(), "hazri-byid-"));
    const real = path.join(tmp, "ttyUSB7");
    writeFileSync(real, "");
    mkdirSync(path.join(tmp, "by-id"));
    const link = path.join(tmp, "by-id", "usb-1a86_USB_Serial-if00-port0");
    symlinkSync("../ttyUSB7", link);
    MockBinding.createPort(real, {});
    const d = await openSerialDevice({ id: "r", path: link, baudRate: 9600, logger: silentLogger, binding: MockBinding });
    devs.push(d);
    await until(() => d.health() === "ok", "open through the link");
    expect(d.realPath()).toBe(real);
    expect(opened[0]!.openOptions.path).toBe(real);
  });
});
