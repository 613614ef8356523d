import { afterEach, describe, expect, it } from "vitest";
import { SerialPortMock } from "serialport";

// serialport re-exports the mock binding with its types (the binding-mock
// package's ESM entry ships no .d.ts).
const MockBinding = SerialPortMock.binding;
type MockPort = Awaited<ReturnType<typeof MockBinding.open>>;
import { openSerialDevice, type SerialDevice } from "./serial-device.ts";
import { Rdm6300Framer } from "../devices/rdm6300/framer.ts";
import { fromHex, toHex } from "../devices/frame.ts";
import { silentLogger } from "../../../protocol/clock.ts";

/** Timed expectation (style guide lesson 7): poll until true or fail after a deadline. */
async function until(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const err = new Error(`timed out waiting for ${what}`);
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw err;
    await new Promise((r) => setTimeout(r, 5));
  }
}

let devs: SerialDevice[] = [];
afterEach(async () => {
  for (const d of devs) await d.close();
  devs = [];
  lastOpened = null;
  MockBinding.reset();
});

const V1 = "02 36 32 45 33 30 38 36 43 45 44 30 38 03";

describe("serial device on MockBinding", () => {
  it("feeds fragmented reads to the framer, emits frames, counts garbage", async () => {
    MockBinding.createPort("/dev/ttyRFID", { maxReadSize: 3, record: true });
    const d = await openSerialDevice({ id: "r1", path: "/dev/ttyRFID", baudRate: 9600, framer: new Rdm6300Framer(), logger: silentLogger, binding: MockBinding });
    devs.push(d);
    const got: string[] = [];
    d.onFrame((f) => got.push(toHex(f.bytes)));
    await until(() => d.health() === "ok", "open");
    const bindingPort = await findOpenMockPort();
    bindingPort.emitData(Buffer.from(fromHex("FF 00 13 " + V1 + " 02 36 32")));
    await until(() => got.length === 1, "one frame");
    expect(got[0]).toBe(toHex(fromHex(V1)));
    expect(d.counters.discardedBytes).toBe(3);
    expect(d.counters.frames).toBe(1);
  });

  it("write() sends bytes; returns false while down; reopens with back-off after the device appears", async () => {
    const d = await openSerialDevice({ id: "relay", path: "/dev/ttyRELAY", baudRate: 9600, logger: silentLogger, binding: MockBinding, backoff: { initialMs: 10, maxMs: 40 } });
    devs.push(d);
    expect(d.write(fromHex("A0 01 01 A2"))).toBe(false);
    await until(() => d.counters.openFailures >= 2, "open retries");
    expect(d.health()).toBe("down");
    MockBinding.createPort("/dev/ttyRELAY", { record: true });
    await until(() => d.health() === "ok", "reopen after device appears");
    expect(d.write(fromHex("A0 01 01 A2"))).toBe(true);
    const p = await findOpenMockPort();
    await until(() => p.recording.length >= 4, "bytes written");
    expect(toHex(p.recording)).toBe("a00101a2");
  });
});

// MockBinding keeps open ports private; capture them by wrapping open once per test.
let lastOpened: MockPort | null = null;
const origOpen = MockBinding.open.bind(MockBinding);
(MockBinding as { open: typeof MockBinding.open }).open = async (o) => {
  const p = await origOpen(o);
  lastOpened = p;
  return p;
};
async function findOpenMockPort() {
  await until(() => lastOpened !== null, "mock port opened");
  return lastOpened!;
}
