import { realpath, stat } from "node:fs/promises";
import { SerialPort } from "serialport";
import type { Logger } from "../../../protocol/clock.ts";
import type { Frame, Framer } from "../devices/frame.ts";
import { toHex } from "../devices/frame.ts";
import { createGarbageLog } from "./garbage-log.ts";

/**
 * One serial device: a node-serialport port + a framer, with in-process
 * reopen and back-off (style guide lesson 15: recover in-process first; the
 * `close` event on USB unplug is platform-dependent, so both `error` and
 * `close` lead to the same reopen loop). Garbage never throws out of here:
 * discarded runs are counted and logged at debug (hex only when debug is on),
 * and summed into a rate-limited warn (garbage-log.ts: once a minute at most).
 *
 * The binding is injectable (`@serialport/binding-mock` in unit tests), the way
 * `SerialPortStream` takes one (style guide lesson 4).
 *
 * Active loss detection (issue 3 "Every serial device"; lesson 15) for devices
 * that talk periodically (LD2410 reports continuously, §6.1; the door-contact
 * bridge repeats its level): with `liveness`, no frame within
 * `factor × expectedIntervalMs` → health `down`, the port is closed and the
 * reopen loop takes over. After a (re)open such a device is `degraded` until
 * its first frame, and the back-off is only reset by a frame, so a device
 * that opens but stays mute is retried ever more slowly (≤ maxMs). Readers
 * are silent when idle: they get no liveness and only the port state counts.
 *
 * Stable names: configure `/dev/serial/by-id/…` (or `by-path/…` for CH340
 * boards without a serial number, §0.3). The symlink is resolved at EVERY
 * open (a replugged adapter may come back as another ttyUSBn) and the real
 * path is logged, so a log line says which tty was actually used.
 */
export type DeviceHealth = "ok" | "degraded" | "down";

export interface SerialDeviceOptions {
  id: string;
  path: string;
  baudRate: number;
  /** Omit for write-only devices (relay). */
  framer?: Framer;
  logger: Logger;
  // biome-ignore lint: the binding interface is generic in serialport's types
  binding?: unknown;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Called after every successful (re)open, e.g. to re-send relay state (§8.1: state lost on re-enumeration). */
  onOpen?: () => void;
  /**
   * Periodic devices only: loss = no frame within `factor` (default 3) × `expectedIntervalMs`.
   * `fedBy: "caller"`: only `markAlive()` counts (the owner calls it for frames that DECODE), so a
   * device sending structurally framed garbage — wrong baud rate, bad check bytes — is still lost.
   */
  liveness?: { expectedIntervalMs: number; factor?: number; fedBy?: "frames" | "caller" };
}

export interface SerialDeviceCounters {
  frames: number;
  discardedRuns: number;
  discardedBytes: number;
  opens: number;
  openFailures: number;
  bytesWritten: number;
  /** Times the liveness check declared the device lost. */
  livenessTimeouts: number;
}

export interface SerialDevice {
  readonly id: string;
  health(): DeviceHealth;
  onFrame(cb: (f: Extract<Frame, { kind: "frame" }>) => void): void;
  /** Called on every health change. */
  onHealth(cb: (h: DeviceHealth) => void): void;
  /** Liveness proof from the owner (with `liveness.fedBy: "caller"`): a frame decoded. */
  markAlive(): void;
  /** Path actually opened last (symlinks resolved), null before the first open. */
  realPath(): string | null;
  /** Bytes the framer holds (a started, incomplete frame): bounded by each framer's maximum. */
  buffered(): number;
  /** Write bytes; false when the port is not open (the caller decides what that means). */
  write(bytes: Uint8Array): boolean;
  readonly counters: SerialDeviceCounters;
  close(): Promise<void>;
}

export async function openSerialDevice(opts: SerialDeviceOptions): Promise<SerialDevice> {
  const log = opts.logger.child({ ns: "edge:serial", device: opts.id });
  const initialMs = opts.backoff?.initialMs ?? 250;
  const maxMs = opts.backoff?.maxMs ?? 5000;
  const debug = () => opts.logger.isLevelEnabled?.("debug") ?? false;
  const counters: SerialDeviceCounters = { frames: 0, discardedRuns: 0, discardedBytes: 0, opens: 0, openFailures: 0, bytesWritten: 0, livenessTimeouts: 0 };
  const listeners: ((f: Extract<Frame, { kind: "frame" }>) => void)[] = [];
  const healthListeners: ((h: DeviceHealth) => void)[] = [];
  let port: SerialPort | null = null;
  let health: DeviceHealth = "down";
  let delay = initialMs;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let resolvedPath: string | null = null;
  const lossMs = opts.liveness ? opts.liveness.expectedIntervalMs * (opts.liveness.factor ?? 3) : 0;
  let watchdog: NodeJS.Timeout | null = null;
  const garbage = createGarbageLog({ logger: log, what: `device ${opts.id}` });
  /** The path the current port was opened on (a resolved /dev/pts/N or ttyUSBn, or the configured path). */
  let openedOn: string | null = null;
  // Device-node presence, checked once a second for real ports (not for an injected binding, whose paths are
  // virtual). Why: a reader is silent when idle, so it has no liveness window, and the port's own close/error
  // on unplug is platform-dependent (seen in CI: a killed socat pty pair not reported within 10 s under load).
  // The node going away is a sure sign: USB unplug removes /dev/ttyUSBn, and Linux removes /dev/pts/N when
  // its master closes (pty_close → devpts_pty_kill). Then the device is lost: close, and the reopen loop runs.
  const presence = opts.binding
    ? null
    : setInterval(() => {
        const p = port;
        const on = openedOn;
        if (!p || !p.isOpen || on === null || stopped) return;
        stat(on).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== "ENOENT" || port !== p || stopped) return;
          log.warn({ path: opts.path, realPath: on }, "device node gone: device lost, reopening");
          setHealth("down");
          if (p.isOpen) p.close(() => undefined);
          else scheduleReopen();
        });
      }, 1000);
  presence?.unref();

  const alive = () => {
    if (!lossMs || !port || !port.isOpen) return;
    arm(port);
    if (health !== "ok") {
      setHealth("ok");
      delay = initialMs; // a talking device resets the back-off (see header)
    }
  };
  const setHealth = (h: DeviceHealth) => {
    if (h === health) return;
    health = h;
    for (const l of healthListeners) {
      try {
        l(h);
      } catch (e) {
        log.error({ err: e }, "health listener threw");
      }
    }
  };
  const disarm = () => {
    if (watchdog) clearTimeout(watchdog);
    watchdog = null;
  };
  /** (Re)start the loss timer; on expiry close the port, which leads to the reopen loop. */
  const arm = (p: SerialPort) => {
    if (!lossMs) return;
    disarm();
    watchdog = setTimeout(() => {
      watchdog = null;
      if (port !== p || stopped) return;
      counters.livenessTimeouts++;
      log.warn({ lossMs, path: resolvedPath }, "no frame within the liveness window: device lost, reopening");
      setHealth("down");
      if (p.isOpen) p.close(() => undefined);
      else scheduleReopen();
    }, lossMs);
  };

  const onData = (chunk: Buffer) => {
    if (!opts.framer) return;
    let out: Frame[];
    try {
      out = opts.framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (e) {
      // A framer must never throw; if one does, drop its state rather than the process.
      log.error({ err: e }, "framer threw; resetting it");
      opts.framer.reset();
      return;
    }
    for (const f of out) {
      if (f.kind === "discarded") {
        counters.discardedRuns++;
        counters.discardedBytes += f.bytes.length;
        garbage.add(f.reason, f.bytes.length);
        if (debug()) log.debug({ reason: f.reason, n: f.bytes.length, hex: toHex(f.bytes.subarray(0, 64)) }, "« discarded");
        continue;
      }
      counters.frames++;
      if (opts.liveness?.fedBy !== "caller") alive();
      if (debug()) log.debug({ hex: toHex(f.bytes) }, "« rx");
      for (const l of listeners) {
        try {
          l(f);
        } catch (e) {
          log.error({ err: e }, "frame listener threw");
        }
      }
    }
  };

  const scheduleReopen = () => {
    if (stopped || timer) return;
    disarm();
    setHealth("down");
    const wait = delay;
    delay = Math.min(maxMs, delay * 2);
    log.debug({ inMs: wait }, "reopen scheduled");
    timer = setTimeout(() => {
      timer = null;
      open();
    }, wait);
  };

  function open(): void {
    if (stopped) return;
    realpath(opts.path).then(
      (real) => {
        if (real !== resolvedPath) log.info({ path: opts.path, realPath: real }, "serial path resolved");
        resolvedPath = real;
        openResolved(real);
      },
      // Not resolvable (a vanished by-id link, or a mock binding's virtual
      // path): let the binding try the configured path; it fails the same way.
      () => openResolved(opts.path),
    );
  }

  function openResolved(realPath: string): void {
    if (stopped) return;
    const p = new SerialPort({
      path: realPath,
      baudRate: opts.baudRate,
      dataBits: 8,
      parity: "none",
      stopBits: 1,
      autoOpen: false,
      ...(opts.binding ? { binding: opts.binding } : {}),
    } as ConstructorParameters<typeof SerialPort>[0]);
    port = p;
    openedOn = realPath;
    p.on("data", onData);
    p.on("error", (err: Error) => {
      log.warn({ err: err.message }, "serial error");
      if (port === p && !p.isOpen) scheduleReopen();
    });
    p.on("close", () => {
      if (port !== p) return;
      if (!stopped) log.warn({}, "serial port closed; reopening");
      opts.framer?.reset(); // a half frame from the old link must not join bytes of the new one
      scheduleReopen();
    });
    p.open((err) => {
      if (port !== p) return;
      if (err) {
        counters.openFailures++;
        if (counters.openFailures === 1 || counters.openFailures % 20 === 0) log.warn({ err: err.message, path: opts.path }, "open failed");
        p.removeAllListeners();
        p.on("error", () => undefined); // keep a sink: a stream 'error' with no listener crashes the process
        port = null;
        scheduleReopen();
        return;
      }
      if (stopped) {
        p.close(() => {});
        return;
      }
      counters.opens++;
      if (lossMs) {
        setHealth("degraded"); // open, but not talking yet
        arm(p);
      } else {
        setHealth("ok");
        delay = initialMs;
      }
      log.info({ path: opts.path, realPath }, "serial port open");
      try {
        opts.onOpen?.();
      } catch (e) {
        log.error({ err: e }, "onOpen threw");
      }
    });
  }

  open();

  return {
    id: opts.id,
    counters,
    health: () => health,
    onFrame: (cb) => void listeners.push(cb),
    onHealth: (cb) => void healthListeners.push(cb),
    markAlive: alive,
    realPath: () => resolvedPath,
    buffered: () => opts.framer?.buffered ?? 0,
    write(bytes) {
      const p = port;
      if (!p || !p.isOpen) return false;
      if (debug()) log.debug({ hex: toHex(bytes) }, "» tx");
      p.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      counters.bytesWritten += bytes.length;
      return true;
    },
    async close() {
      stopped = true;
      if (presence) clearInterval(presence);
      garbage.close();
      if (timer) clearTimeout(timer);
      timer = null;
      disarm();
      const p = port;
      port = null;
      setHealth("down");
      if (p?.isOpen) {
        await new Promise<void>((resolve) => p.drain(() => p.close(() => resolve())));
      }
      p?.removeAllListeners();
      // A write still queued on a vanished pty fails later with EIO; the
      // stream then emits 'error', which must have a listener (no crash).
      p?.on("error", () => undefined);
    },
  };
}
