/**
 * A simulated reed-switch door contact on our UART bridge (edge convention in
 * edge/src/door/contact-line.ts; sensor facts device-protocols.md §8.2): the
 * bridge sends `C<input>:<1|0>\r\n` (1 = open) on every change and repeats the
 * level every `repeatMs` as a keep-alive.
 *
 * Door behaviours used by the center and tests: walkThrough (a member opens the
 * door after a grant and lets it close), forceOpen (opened with no grant),
 * holdOpen (propped open past the limit), flap (a loose magnet bouncing).
 * Fault behaviours like every sim device: silent, noise, dripFeedMs, corrupt
 * (malformed lines instead of good ones).
 */
import type { SerialPort } from "serialport";
import { closeDeviceSerial, delay, openDeviceSerial, writeDrained } from "./serial.ts";

export interface DoorContactBehavior {
  /** Stop answering: no lines at all, not even keep-alives (a hung bridge). */
  silent: boolean;
  noise: Uint8Array | null;
  dripFeedMs: number;
  /** Send `C<n>:?` style junk instead of each line. */
  corrupt: boolean;
}
const defaults = (): DoorContactBehavior => ({ silent: false, noise: null, dripFeedMs: 0, corrupt: false });

export type DoorMoveCause = "walk" | "forced" | "held" | "flap" | "set";

export interface SimDoorContactOptions {
  path: string;
  input?: number;
  /** Keep-alive period (default 5000 ms; the edge's `contact.repeatS` must match). */
  repeatMs?: number;
  /** Called on every real change of the door (ground truth), with wall time. */
  onChange?: (open: boolean, cause: DoorMoveCause) => void;
}

export class SimDoorContact {
  readonly path: string;
  behavior: DoorContactBehavior = defaults();
  linesSent = 0;
  writeErrors = 0;
  private isOpen = false;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly keepAlive: NodeJS.Timeout;
  private readonly closing = new AbortController();
  private readonly input: number;

  private constructor(
    private readonly port: SerialPort,
    private readonly opts: SimDoorContactOptions,
  ) {
    this.path = opts.path;
    this.input = opts.input ?? 1;
    this.keepAlive = setInterval(() => void this.send(), opts.repeatMs ?? 5000);
  }

  static async open(opts: SimDoorContactOptions): Promise<SimDoorContact> {
    const c = new SimDoorContact(await openDeviceSerial(opts.path, 115_200), opts);
    void c.send(); // the bridge reports its level at power-up
    return c;
  }

  setBehavior(patch: Partial<DoorContactBehavior>): () => void {
    const prev = this.behavior;
    this.behavior = { ...prev, ...patch };
    return () => {
      this.behavior = prev;
    };
  }

  get open(): boolean {
    return this.isOpen;
  }

  /** Change the door's position; sends the line at once (the bridge debounce is not modelled). */
  async set(open: boolean, cause: DoorMoveCause = "set"): Promise<void> {
    if (open === this.isOpen) return;
    this.isOpen = open;
    this.opts.onChange?.(open, cause);
    await this.send();
  }

  /** A member walks through after a grant: opens after `afterMs`, closes `openMs` later. */
  async walkThrough(o: { afterMs?: number; openMs?: number; cause?: DoorMoveCause } = {}): Promise<void> {
    const cause = o.cause ?? "walk";
    await delay(o.afterMs ?? 500, this.closing.signal);
    await this.set(true, cause);
    await delay(o.openMs ?? 2000, this.closing.signal);
    await this.set(false, cause);
  }

  /** Opened with no grant (a pulled strike, a propped latch): same as a walk, but nobody unlocked. */
  forceOpen(openMs = 2000): Promise<void> {
    return this.walkThrough({ afterMs: 0, openMs, cause: "forced" });
  }

  /** Propped open for `ms` (longer than the door's heldOpenS → held_open at the edge). */
  holdOpen(ms: number): Promise<void> {
    return this.walkThrough({ afterMs: 0, openMs: ms, cause: "held" });
  }

  /** A bouncing contact: `times` open/close pairs `periodMs` apart. */
  async flap(times: number, periodMs = 50): Promise<void> {
    for (let i = 0; i < times && !this.closing.signal.aborted; i++) {
      await this.set(true, "flap");
      await delay(periodMs, this.closing.signal);
      await this.set(false, "flap");
      await delay(periodMs, this.closing.signal);
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
    clearInterval(this.keepAlive);
    await Promise.race([this.chain, delay(1000)]);
    await closeDeviceSerial(this.port);
  }

  /** Serialised so a keep-alive never splits a change line. */
  private send(): Promise<void> {
    const run = this.chain.then(async () => {
      const b = this.behavior;
      if (b.silent || this.closing.signal.aborted) return;
      const text = b.corrupt ? `C${this.input}:?\r\n` : `C${this.input}:${this.isOpen ? 1 : 0}\r\n`;
      try {
        if (b.noise && b.noise.length > 0) await this.write(b.noise);
        await this.write(new TextEncoder().encode(text));
        this.linesSent++;
      } catch {
        this.writeErrors++; // nobody reading (pty full) or unplugged: a UART just drops it
      }
    });
    this.chain = run;
    return run;
  }

  private async write(bytes: Uint8Array): Promise<void> {
    const gap = this.behavior.dripFeedMs;
    if (gap <= 0) {
      await writeDrained(this.port, bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i++) {
      if (i > 0) await delay(gap);
      await writeDrained(this.port, bytes.subarray(i, i + 1));
    }
  }
}
