/**
 * Shared request/response machinery for the simulated UPS (Megatec) and
 * inverter (Voltronic) on the device side of a pty: read CR-terminated
 * commands, answer each through `respond`, with per-test behaviours in the
 * style of Z-Wave JS mock behaviours (style lesson 5): stop answering, answer
 * late, corrupt the reply, prefix noise, drip-feed bytes.
 */
import type { SerialPort } from "serialport";
import type { PowerSnapshot, SimPowerModel } from "./ups-battery.ts";
import { closeDeviceSerial, delay, openDeviceSerial, writeDrained } from "./serial.ts";

export interface PowerDeviceBehavior {
  /** Read commands, answer nothing (dead unit, cable pulled on the UPS side). */
  silent: boolean;
  /** Answer after this many ms (a late answer; the edge's deadline is ~1.5 s). */
  lateMs: number;
  /** Corrupt the reply (Megatec: a non-numeric field; Voltronic: a bad CRC). */
  corrupt: boolean;
  /** Bytes written just before each reply (line noise). */
  noise: Uint8Array | null;
  /** Write replies one byte at a time with this gap (0 = whole reply). */
  dripFeedMs: number;
  /**
   * Frozen readings: the unit answers every command on time with valid frames, but the values are
   * the ones it had when this was set (a hung measurement MCU behind a live UART). The model keeps
   * running; ending it shows the true state again.
   */
  stale: boolean;
}

export const defaultPowerDeviceBehavior = (): PowerDeviceBehavior => ({ silent: false, lateMs: 0, corrupt: false, noise: null, dripFeedMs: 0, stale: false });

export interface CommandLog {
  /** Command text (Voltronic: without CRC) or null when it failed its CRC. */
  command: string | null;
  at: number;
  answered: boolean;
}

export abstract class SimSerialResponder {
  readonly path: string;
  behavior: PowerDeviceBehavior = defaultPowerDeviceBehavior();
  readonly commands: CommandLog[] = [];
  repliesSent = 0;
  private buf: number[] = [];
  private frozen: PowerSnapshot | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly closing = new AbortController();

  protected constructor(
    protected readonly port: SerialPort,
    path: string,
  ) {
    this.path = path;
    port.on("data", (chunk: Buffer) => this.onData(chunk));
  }

  protected static openPort(path: string): Promise<SerialPort> {
    return openDeviceSerial(path, 2400); // §4.1 / §4.2: 2400 8N1
  }

  /** The model this unit measures (set by the subclass): `stale` freezes its snapshot at the instant it is set. */
  protected measured: SimPowerModel | null = null;

  setBehavior(patch: Partial<PowerDeviceBehavior>): () => void {
    const prev = this.behavior;
    this.behavior = { ...prev, ...patch };
    if (this.behavior.stale && !prev.stale && this.measured) this.frozen = this.measured.snapshot();
    if (!this.behavior.stale) this.frozen = null;
    return () => {
      this.behavior = prev;
    };
  }

  resetBehavior(): void {
    this.behavior = defaultPowerDeviceBehavior();
    this.frozen = null;
  }

  /** Write arbitrary bytes now (noise, truncated replies). */
  sendRaw(bytes: Uint8Array): Promise<number> {
    return writeDrained(this.port, bytes);
  }

  async close(): Promise<void> {
    this.closing.abort();
    await Promise.race([this.queue, delay(1000)]);
    await closeDeviceSerial(this.port);
  }

  /** What the unit measures now: the model, or the snapshot frozen when `stale` was set. */
  protected view(model: SimPowerModel): PowerSnapshot {
    if (!this.behavior.stale) {
      this.frozen = null;
      return model.snapshot();
    }
    this.frozen ??= model.snapshot();
    return this.frozen;
  }

  /** The reply to one command line (without CR), or null for no reply. */
  protected abstract respond(line: Uint8Array): { command: string | null; reply: Uint8Array | null };

  private onData(chunk: Buffer): void {
    for (const b of chunk) {
      if (b !== 0x0d) {
        if (this.buf.length < 256) this.buf.push(b); // a UART buffer is small; drop overflow
        continue;
      }
      const line = Uint8Array.from(this.buf);
      this.buf = [];
      const r = this.respond(line);
      const log: CommandLog = { command: r.command, at: performance.now(), answered: false };
      this.commands.push(log);
      if (this.commands.length > 1000) this.commands.splice(0, 500);
      const b2 = this.behavior;
      if (b2.silent || r.reply === null) continue;
      const reply = r.reply;
      // Serialised like a real UART: one reply at a time, in command order.
      this.queue = this.queue
        .then(async () => {
          const signal = this.closing.signal;
          if (b2.lateMs > 0) await delay(b2.lateMs, signal);
          if (signal.aborted) return;
          if (b2.noise && b2.noise.length > 0) await writeDrained(this.port, b2.noise);
          if (b2.dripFeedMs > 0) {
            for (let i = 0; i < reply.length && !signal.aborted; i++) {
              if (i > 0) await delay(b2.dripFeedMs, signal);
              await writeDrained(this.port, reply.subarray(i, i + 1));
            }
          } else await writeDrained(this.port, reply);
          log.answered = true;
          this.repliesSent++;
        })
        .catch(() => undefined); // a vanished pty (unplug) must not break the queue
    }
  }
}
