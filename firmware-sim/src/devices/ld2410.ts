/**
 * A simulated HLK-LD2410 radar over a seat, on the device side of a pty
 * (device-protocols.md §6): streams a basic report every `reportMs` (§6.1,
 * community figures 50–100 ms), target "stationary at the desk distance" while
 * someone sits there, no target otherwise. Configuration commands (§6.3) are
 * not answered (the edge sends none).
 *
 * Behaviours: silent (stop answering: no reports), noise, dripFeedMs,
 * corruptChecksum (check byte 0x01 instead of 0x00), flapMs (presence toggles
 * every flapMs: a person fidgeting at the edge of the detection zone).
 */
import type { SerialPort } from "serialport";
import { closeDeviceSerial, delay, openDeviceSerial, writeDrained } from "./serial.ts";
import { encodeLd2410Basic, noTarget, seatedAt } from "./ld2410-wire.ts";

export interface RadarBehavior {
  silent: boolean;
  noise: Uint8Array | null;
  dripFeedMs: number;
  corruptChecksum: boolean;
  /** 0 = off; otherwise presence flips every flapMs regardless of the seat. */
  flapMs: number;
}
const defaults = (): RadarBehavior => ({ silent: false, noise: null, dripFeedMs: 0, corruptChecksum: false, flapMs: 0 });

export class SimRadar {
  readonly path: string;
  behavior: RadarBehavior = defaults();
  framesSent = 0;
  writeErrors = 0;
  private present = false;
  private busy = false;
  private readonly timer: NodeJS.Timeout;
  private readonly started = performance.now();
  private readonly closing = new AbortController();

  private constructor(
    private readonly port: SerialPort,
    opts: { path: string; reportMs?: number; distanceCm?: number },
    private readonly distanceCm = opts.distanceCm ?? 80,
  ) {
    this.path = opts.path;
    this.timer = setInterval(() => void this.tick(), opts.reportMs ?? 100);
  }

  static async open(opts: { path: string; reportMs?: number; distanceCm?: number }): Promise<SimRadar> {
    return new SimRadar(await openDeviceSerial(opts.path, 256_000), opts);
  }

  setBehavior(patch: Partial<RadarBehavior>): () => void {
    const prev = this.behavior;
    this.behavior = { ...prev, ...patch };
    return () => {
      this.behavior = prev;
    };
  }

  setPresent(present: boolean): void {
    this.present = present;
  }

  get isPresent(): boolean {
    return this.present;
  }

  async close(): Promise<void> {
    this.closing.abort();
    clearInterval(this.timer);
    await closeDeviceSerial(this.port);
  }

  private async tick(): Promise<void> {
    const b = this.behavior;
    // A write still in flight (slow reader, drip-feed) skips this report, like a UART TX buffer would.
    if (this.busy || b.silent || this.closing.signal.aborted) return;
    this.busy = true;
    let present = this.present;
    if (b.flapMs > 0) present = Math.floor((performance.now() - this.started) / b.flapMs) % 2 === 0;
    const frame = encodeLd2410Basic(present ? seatedAt(this.distanceCm) : noTarget, b.corruptChecksum ? { checkByte: 1 } : {});
    try {
      if (b.noise && b.noise.length > 0) await writeDrained(this.port, b.noise);
      if (b.dripFeedMs > 0) {
        for (let i = 0; i < frame.length && !this.closing.signal.aborted; i++) {
          if (i > 0) await delay(b.dripFeedMs);
          await writeDrained(this.port, frame.subarray(i, i + 1));
        }
      } else await writeDrained(this.port, frame);
      this.framesSent++;
    } catch {
      this.writeErrors++;
    } finally {
      this.busy = false;
    }
  }
}
