/**
 * A simulated RDM6300 125 kHz reader on the device side of a pty
 * (device-protocols.md §1). Default behaviour is a healthy module: while a
 * card is held the frame repeats every ~100 ms (§1.3 — repeats are what the
 * real module does, and what the edge's de-duplication must absorb).
 * Per-test behaviour overrides follow Z-Wave JS mock behaviours (style lesson 5).
 */
import type { SerialPort } from "serialport";
import { closeDeviceSerial, delay, openDeviceSerial, writeDrained } from "./serial.ts";
import { encodeRdm6300, encodeRdm6300Corrupt } from "./rdm6300-wire.ts";

export { encodeRdm6300, encodeRdm6300Corrupt } from "./rdm6300-wire.ts";

export interface CardReaderBehavior {
  /** Send every frame with checksum + 1 (a bad read; the edge must reject it, §1.5 row 3). */
  corruptChecksum: boolean;
  /** Bytes sent just before the first frame of each tap (line noise, §1.5 row 5). */
  noise: Uint8Array | null;
  /** Write frames one byte at a time with this gap in ms (0 = whole frame at once). */
  dripFeedMs: number;
  /** A dead reader: taps write nothing. */
  silent: boolean;
}

export const defaultCardReaderBehavior = (): CardReaderBehavior => ({
  corruptChecksum: false,
  noise: null,
  dripFeedMs: 0,
  silent: false,
});

export interface TapOptions {
  /** How long the card stays in the field (default 300 ms). */
  holdMs?: number;
  /** Called right after the first frame is drained, with performance.now(). */
  onFirstFrame?: (at: number) => void;
}

export interface SimCardReaderOptions {
  path: string;
  /** Repeat period while a card is held (§1.3, default 100 ms). */
  repeatMs?: number;
  /**
   * After a card leaves, the same card is not presented again for this long
   * (default 700 ms), so the edge sees a new presentation and not a continued
   * hold (§1.3 recommends "removed after ~500 ms without frames").
   */
  sameCardGapMs?: number;
}

export class SimCardReader {
  readonly path: string;
  behavior: CardReaderBehavior = defaultCardReaderBehavior();
  /** Frames actually written (all taps). */
  framesSent = 0;
  private readonly repeatMs: number;
  private readonly sameCardGapMs: number;
  private queue: Promise<unknown> = Promise.resolve();
  private last: { cardId: string; endedAt: number } | null = null;
  private readonly closing = new AbortController();

  private constructor(
    private readonly port: SerialPort,
    opts: SimCardReaderOptions,
  ) {
    this.path = opts.path;
    this.repeatMs = opts.repeatMs ?? 100;
    this.sameCardGapMs = opts.sameCardGapMs ?? 700;
  }

  static async open(opts: SimCardReaderOptions): Promise<SimCardReader> {
    return new SimCardReader(await openDeviceSerial(opts.path), opts);
  }

  /** Override some behaviours; returns a function that restores the previous ones. */
  setBehavior(patch: Partial<CardReaderBehavior>): () => void {
    const prev = this.behavior;
    this.behavior = { ...prev, ...patch };
    return () => {
      this.behavior = prev;
    };
  }

  resetBehavior(): void {
    this.behavior = defaultCardReaderBehavior();
  }

  /**
   * Present a card. Frames go out every `repeatMs` while held. Taps on one
   * reader are serialised (one antenna). Resolves, after the card is removed,
   * with performance.now() at which the LAST BYTE OF THE FIRST FRAME was
   * drained (for latency measurements); NaN when `silent`.
   */
  tap(cardId: string, opts: TapOptions = {}): Promise<number> {
    encodeRdm6300(cardId); // throws TypeError on a bad id now, not inside the queue
    const run = this.queue.then(() => this.present(cardId.toUpperCase(), opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Write arbitrary bytes now (noise, truncated frames, other firmware). */
  async sendRaw(bytes: Uint8Array): Promise<number> {
    return this.write(bytes);
  }

  /** Shorthand for sendRaw of line noise. */
  async noise(bytes: Uint8Array): Promise<number> {
    return this.write(bytes);
  }

  /** Abort a tap in progress and close the port; never waits on a blocked write for more than ~1 s. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.race([this.queue, delay(1000)]);
    await closeDeviceSerial(this.port);
  }

  private async present(cardId: string, opts: TapOptions): Promise<number> {
    const signal = this.closing.signal;
    if (this.last?.cardId === cardId) {
      const wait = this.last.endedAt + this.sameCardGapMs - performance.now();
      if (wait > 0) await delay(wait, signal);
    }
    const holdMs = opts.holdMs ?? 300;
    const b = this.behavior;
    if (b.silent || signal.aborted) {
      await delay(holdMs, signal);
      this.last = { cardId, endedAt: performance.now() };
      return Number.NaN;
    }
    const frame = b.corruptChecksum ? encodeRdm6300Corrupt(cardId) : encodeRdm6300(cardId);
    const start = performance.now();
    if (b.noise && b.noise.length > 0) await this.write(b.noise);
    const firstAt = await this.write(frame);
    this.framesSent++;
    opts.onFirstFrame?.(firstAt);
    // Repeat on a fixed grid from the start, like the module's read cycle.
    for (let k = 1; start + k * this.repeatMs < start + holdMs; k++) {
      const wait = start + k * this.repeatMs - performance.now();
      if (wait > 0) await delay(wait, signal);
      if (signal.aborted) break;
      await this.write(frame);
      this.framesSent++;
    }
    this.last = { cardId, endedAt: performance.now() };
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
