import { afterEach, describe, expect, it, vi } from "vitest";
import { SerialPortMock } from "serialport";
import { silentLogger } from "../../../protocol/clock.ts";
import { decodeQ1, Q1_COMMAND } from "../devices/megatec/decode.ts";
import { createMegatecFramer } from "../devices/megatec/framer.ts";
import { toHex } from "../devices/frame.ts";
import { fromQ1, type PowerReading } from "./reading.ts";
import { startSerialPoller, type Poller } from "./serial-poller.ts";

const MockBinding = SerialPortMock.binding;
type MockPort = Awaited<ReturnType<typeof MockBinding.open>>;

// Capture opened mock ports (binding-mock keeps them private).
const opened: MockPort[] = [];
const origOpen = MockBinding.open.bind(MockBinding);
(MockBinding as { open: typeof MockBinding.open }).open = async (o) => {
  const p = await origOpen(o);
  opened.push(p);
  return p;
};

const OK = "(229.8 229.8 229.8 023 50.0 27.3 31.0 00001001\r";
const OB = "(000.0 000.0 229.0 040 50.0 25.1 31.0 10001001\r";
const bytes = (s: string) => Buffer.from(s, "latin1");

let poller: Poller | null = null;
afterEach(async () => {
  await poller?.close();
  poller = null;
  vi.useRealTimers();
  MockBinding.reset();
  opened.length = 0;
});

// Fake only the timers the poller uses; binding-mock runs on process.nextTick (left real).
const fake = () => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
/** Let nextTick/promise work (mock I/O) run between fake-timer steps. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
};
/** Wait (real immediates, bounded) until a condition holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function start(path: string, extra: { reopenAfterMisses?: number } = {}) {
  const readings: PowerReading[] = [];
  const links: string[] = [];
  poller = await startSerialPoller({
    id: "ups1",
    path,
    baudRate: 2400,
    command: Q1_COMMAND,
    framer: createMegatecFramer,
    decode: (f) => {
      const r = decodeQ1(f);
      return r.ok ? { ok: true, reading: fromQ1(r.status) } : { ok: false, code: r.code, detail: r.reason };
    },
    pollMs: 1000,
    timeoutMs: 500,
    staleAfterMs: 3000,
    reopenBackoff: { initialMs: 2000, maxMs: 8000 },
    openBackoff: { initialMs: 100, maxMs: 100 },
    logger: silentLogger,
    binding: MockBinding,
    onReading: (r) => readings.push(r),
    onLink: (l) => links.push(l),
    ...extra,
  });
  await until(() => opened.length > 0 && opened[0]!.isOpen, "port open");
  return { readings, links };
}

/** Answer each poll the mock port receives with `reply(n)`; null = stay silent. */
function answer(port: MockPort, reply: (n: number) => string | null) {
  let seen = 0;
  let n = 0;
  const orig = port.write.bind(port);
  port.write = async (buf: Buffer) => {
    await orig(buf);
    seen += buf.length;
    while (seen >= 3) {
      seen -= 3;
      const r = reply(n++);
      if (r !== null) port.emitData(bytes(r));
    }
  };
}

describe("serial poller (Megatec Q1 on MockBinding, fake timers)", () => {
  it("sends Q1\\r every pollMs and turns answers into readings", async () => {
    fake();
    MockBinding.createPort("/dev/ttyUPS", { record: true });
    const { readings, links } = await (async () => {
      const s = start("/dev/ttyUPS");
      return s;
    })();
    const port = opened[0]!;
    answer(port, (n) => (n < 2 ? OK : OB));
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(1000);
      await settle();
    }
    expect(readings.map((r) => r.status[0])).toEqual(["OL", "OL", "OB", "OB"].slice(0, readings.length));
    expect(readings.length).toBeGreaterThanOrEqual(3);
    expect(toHex(port.recording.subarray(0, 3))).toBe(toHex(Q1_COMMAND));
    expect(links).toEqual([]);
    expect(poller!.health()).toBe("ok");
  });

  it("no answer → misses, link stale after staleAfterMs, port reopened after 3 misses with back-off; recovers", async () => {
    fake();
    MockBinding.createPort("/dev/ttyUPS2", { record: true });
    const { readings, links } = await start("/dev/ttyUPS2");
    let silent = false;
    answer(opened[0]!, () => (silent ? null : OK)); // the poll sent at start went unanswered
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(readings).toHaveLength(1);
    silent = true;
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(1000);
      await settle();
    }
    expect(links).toEqual(["stale"]);
    expect(poller!.health()).toBe("degraded");
    expect(poller!.counters.misses).toBeGreaterThanOrEqual(3);
    await vi.advanceTimersByTimeAsync(2100); // reopen back-off (2 s)
    await settle();
    await until(() => opened.length === 2 && opened[1]!.isOpen, "reopened port");
    expect(poller!.counters.reopens).toBe(1);
    expect(opened.length).toBe(2);
    answer(opened[1]!, () => OK);
    await vi.advanceTimersByTimeAsync(2000);
    await settle();
    expect(readings.length).toBeGreaterThan(1);
    expect(poller!.health()).toBe("ok");
  });

  it("a late answer (after the deadline) is counted and dropped; garbage and bad fields are errors, not readings", async () => {
    fake();
    MockBinding.createPort("/dev/ttyUPS3", { record: true });
    const { readings } = await start("/dev/ttyUPS3", { reopenAfterMisses: 100 });
    const port = opened[0]!;
    // Reply to poll 0 only after its 500 ms deadline.
    answer(port, () => null);
    await vi.advanceTimersByTimeAsync(600);
    port.emitData(bytes(OK));
    await settle();
    expect(poller!.counters.late).toBe(1);
    expect(readings).toHaveLength(0);
    answer(port, (n) => (n === 0 ? "\x00\xffnoise(208.4 140.0 2x8.4 034 59.9 2.05 35.0 00110000\r" : OK));
    await vi.advanceTimersByTimeAsync(400);
    await settle();
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(poller!.counters.errors.FRAME_FORMAT).toBe(1);
    expect(readings).toHaveLength(1);
  });
});
