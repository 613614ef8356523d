/**
 * Simulated line-output card readers on the device side of a pty: a Wiegand
 * reader behind our UART bridge (`W<bits>:<HEX>\r\n`, device-protocols.md §2.4)
 * and, in wedge.ts, a keyboard-wedge reader (10 digits + CR LF, §3.1). Same
 * tap()/behaviour surface as SimCardReader (rdm6300.ts), so the center and the
 * tests treat every reader type alike.
 *
 * Default: one line per presentation (Wiegand readers and wedges emit once;
 * the bridge closes a frame after 30 ms of silence, §2.1). `repeatMs` makes it
 * repeat while held, like some readers do, to exercise the edge's de-dup.
 */
import type { SerialPort } from "serialport";
import { closeDeviceSerial, delay, openDeviceSerial, writeDrained } from "./serial.ts";
import { cardIdBytes } from "./rdm6300-wire.ts";
import { wiegandLineForCard, type WiegandBits } from "./wiegand-wire.ts";
import type { CardReaderBehavior, TapOptions } from "./rdm6300.ts";

export interface SimLineReaderOptions {
  path: string;
  baudRate?: number;
  /** Card id (10 hex) → line without terminator; `corrupt` = the behaviour's corruptChecksum. */
  encode: (cardId: string, corrupt: boolean) => string;
  /** Repeat the line while held (0 = once per tap, the default). */
  repeatMs?: number;
}

export class SimLineReader {
  readonly path: string;
  behavior: CardReaderBehavior = { corruptChecksum: false, noise: null, dripFeedMs: 0, silent: false };
  framesSent = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly closing = new AbortController();

  protected constructor(
    private readonly port: SerialPort,
    private readonly opts: SimLineReaderOptions,
  ) {
    this.path = opts.path;
  }

  static async openLine(opts: SimLineReaderOptions): Promise<SimLineReader> {
    return new SimLineReader(await openDeviceSerial(opts.path, opts.baudRate ?? 115_200), opts);
  }

  setBehavior(patch: Partial<CardReaderBehavior>): () => void {
    const prev = this.behavior;
    this.behavior = { ...prev, ...patch };
    return () => {
      this.behavior = prev;
    };
  }

  resetBehavior(): void {
    this.behavior = { corruptChecksum: false, noise: null, dripFeedMs: 0, silent: false };
  }

  /** Present a card; resolves with performance.now() when the first line's last byte drained (NaN if silent). */
  tap(cardId: string, opts: TapOptions = {}): Promise<number> {
    cardIdBytes(cardId); // TypeError on a bad id now
    const run = this.queue.then(() => this.present(cardId.toUpperCase(), opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async sendRaw(bytes: Uint8Array): Promise<number> {
    return this.write(bytes);
  }

  async close(): Promise<void> {
    this.closing.abort();
    await Promise.race([this.queue, delay(1000)]);
    await closeDeviceSerial(this.port);
  }

  private async present(cardId: string, opts: TapOptions): Promise<number> {
    const signal = this.closing.signal;
    const holdMs = opts.holdMs ?? 300;
    const b = this.behavior;
    if (b.silent || signal.aborted) {
      await delay(holdMs, signal);
      return Number.NaN;
    }
    const line = new TextEncoder().encode(`${this.opts.encode(cardId, b.corruptChecksum)}\r\n`);
    const start = performance.now();
    if (b.noise && b.noise.length > 0) await this.write(b.noise);
    const firstAt = await this.write(line);
    this.framesSent++;
    opts.onFirstFrame?.(firstAt);
    const rep = this.opts.repeatMs ?? 0;
    for (let k = 1; rep > 0 && k * rep < holdMs; k++) {
      const wait = start + k * rep - performance.now();
      if (wait > 0) await delay(wait, signal);
      if (signal.aborted) break;
      await this.write(line);
      this.framesSent++;
    }
    const rest = start + holdMs - performance.now();
    if (rest > 0) await delay(rest, signal);
    return firstAt;
  }

  private async write(bytes: Uint8Array): Promise<number> {
    const gap = this.behavior.dripFeedMs;
    if (gap <= 0) return writeDrained(this.port, bytes);
    let at = performance.now();
    for (let i = 0; i < bytes.length; i++) {
      if (i > 0) await delay(gap);
      at = await writeDrained(this.port, bytes.subarray(i, i + 1));
    }
    return at;
  }
}

/** A Wiegand 26/34 reader behind the UART bridge; corruptChecksum flips the odd-parity bit. */
export function openSimWiegandReader(opts: { path: string; bits?: WiegandBits; repeatMs?: number }): Promise<SimLineReader> {
  const bits = opts.bits ?? 26;
  return SimLineReader.openLine({
    path: opts.path,
    baudRate: 115_200,
    encode: (card, corrupt) => wiegandLineForCard(card, bits, { corruptParity: corrupt }),
    ...(opts.repeatMs !== undefined ? { repeatMs: opts.repeatMs } : {}),
  });
}
