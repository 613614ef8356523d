import { createReadStream, type ReadStream } from "node:fs";
import { realpath } from "node:fs/promises";
import type { Logger } from "../../../../protocol/clock.ts";
import type { Frame } from "../frame.ts";
import type { DeviceHealth, SerialDevice, SerialDeviceCounters } from "../../serial/serial-device.ts";
import { EvdevWedgeFramer } from "./evdev.ts";
import { createGarbageLog } from "../../serial/garbage-log.ts";

/**
 * HID keyboard-wedge reader read from Linux evdev (device-protocols.md §3.1):
 * `/dev/input/by-id/*-event-kbd` → 24-byte input_event records → EvdevWedgeFramer
 * → the same 10-digit lines a serial wedge sends. It presents the SerialDevice
 * shape so the access fast path (access/reader.ts) does not care where the
 * bytes come from.
 *
 * Limits (edge/README.md "Keyboard-wedge readers"):
 *  - no EVIOCGRAB (Node cannot issue the ioctl without a native addon): the
 *    kernel also delivers the digits to the console/X; on a headless edge box
 *    nobody is logged in on the console, so they go nowhere harmful.
 *  - a read on a character device blocks one libuv threadpool thread (of 4)
 *    while the reader is idle; fine for one or two wedges per box.
 *  - needs root or the `input` group.
 * Unplug: the read fails (ENODEV) or ends → `down`, reopened with back-off;
 * the by-id link is resolved at each open like serial ports.
 */
export async function openEvdevDevice(o: {
  id: string;
  path: string;
  logger: Logger;
  backoff?: { initialMs?: number; maxMs?: number };
}): Promise<SerialDevice> {
  const log = o.logger.child({ ns: "edge:evdev", device: o.id });
  const initialMs = o.backoff?.initialMs ?? 250;
  const maxMs = o.backoff?.maxMs ?? 5000;
  const framer = new EvdevWedgeFramer();
  const garbage = createGarbageLog({ logger: log, what: `device ${o.id}` });
  const counters: SerialDeviceCounters = { frames: 0, discardedRuns: 0, discardedBytes: 0, opens: 0, openFailures: 0, bytesWritten: 0, livenessTimeouts: 0 };
  const frameListeners: ((f: Extract<Frame, { kind: "frame" }>) => void)[] = [];
  const healthListeners: ((h: DeviceHealth) => void)[] = [];
  let health: DeviceHealth = "down";
  let stream: ReadStream | null = null;
  let timer: NodeJS.Timeout | null = null;
  let delay = initialMs;
  let stopped = false;
  let resolved: string | null = null;

  const setHealth = (h: DeviceHealth) => {
    if (h === health) return;
    health = h;
    for (const l of healthListeners) l(h);
  };
  const scheduleReopen = () => {
    if (stopped || timer) return;
    setHealth("down");
    framer.reset();
    const wait = delay;
    delay = Math.min(maxMs, delay * 2);
    timer = setTimeout(() => {
      timer = null;
      open();
    }, wait);
  };
  const open = () => {
    if (stopped) return;
    void realpath(o.path)
      .catch(() => o.path)
      .then((real) => {
        if (stopped) return;
        resolved = real;
        const s = createReadStream(real, { highWaterMark: 24 * 64 });
        stream = s;
        s.on("open", () => {
          counters.opens++;
          delay = initialMs;
          setHealth("ok");
          log.info({ path: o.path, realPath: real }, "evdev device open");
        });
        s.on("data", (chunk) => {
          for (const f of framer.push(chunk as Buffer)) {
            if (f.kind === "discarded") {
              counters.discardedRuns++;
              counters.discardedBytes += f.bytes.length;
              garbage.add(f.reason, f.bytes.length);
              continue;
            }
            counters.frames++;
            for (const l of frameListeners) {
              try {
                l(f);
              } catch (e) {
                log.error({ err: e }, "frame listener threw");
              }
            }
          }
        });
        const lost = (why: string) => {
          if (stream !== s) return;
          stream = null;
          if (!stopped) log.warn({ why }, "evdev device lost; reopening");
          s.destroy();
          scheduleReopen();
        };
        s.on("error", (err: NodeJS.ErrnoException) => {
          if (health !== "ok") counters.openFailures++;
          lost(err.code ?? err.message);
        });
        s.on("end", () => lost("end of stream"));
      });
  };
  open();

  return {
    id: o.id,
    counters,
    health: () => health,
    onFrame: (cb) => void frameListeners.push(cb),
    onHealth: (cb) => void healthListeners.push(cb),
    markAlive: () => undefined,
    realPath: () => resolved,
    buffered: () => framer.buffered,
    write: () => false, // a keyboard takes no commands
    async close() {
      stopped = true;
      garbage.close();
      if (timer) clearTimeout(timer);
      timer = null;
      const s = stream;
      stream = null;
      s?.destroy();
      setHealth("down");
    },
  };
}
