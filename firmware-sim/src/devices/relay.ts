/**
 * A simulated LCUS-1/2/4 USB relay board on the device side of a pty
 * (device-protocols.md §8.1). It only listens: the real board sends no reply.
 * Frames with a bad checksum are counted and ignored, like the board.
 */
import { EventEmitter } from "node:events";
import type { SerialPort } from "serialport";
import { HazriError } from "../../../protocol/errors.ts";
import { LcusFramer, type LcusFrame } from "./lcus-wire.ts";
import { closeDeviceSerial, openDeviceSerial } from "./serial.ts";

export interface RelayCommand {
  channel: number;
  on: boolean;
  /** performance.now() when the command's last byte was read. */
  at: number;
  /** Wall clock (ms) at the same moment, for ground truth. */
  wallAt: number;
}

export interface SimRelayOptions {
  path: string;
  /** Channels on the board (LCUS-1/2/4); commands for others are counted as invalid. Default 4. */
  channels?: number;
  now?: () => number;
}

export interface SimRelayEvents {
  command: [RelayCommand];
  frame: [LcusFrame];
}

export class SimRelay extends EventEmitter<SimRelayEvents> {
  readonly path: string;
  readonly channels: number;
  /** Every accepted command, in arrival order. */
  readonly history: RelayCommand[] = [];
  badChecksums = 0;
  invalidFrames = 0;
  discardedBytes = 0;
  private readonly state = new Map<number, boolean>();
  private readonly framer = new LcusFramer();
  private readonly now: () => number;

  private constructor(
    private readonly port: SerialPort,
    opts: SimRelayOptions,
  ) {
    super();
    this.path = opts.path;
    this.channels = opts.channels ?? 4;
    this.now = opts.now ?? Date.now;
  }

  static async open(opts: SimRelayOptions): Promise<SimRelay> {
    const relay = new SimRelay(await openDeviceSerial(opts.path), opts);
    relay.port.on("data", (chunk: Buffer) => relay.onData(chunk));
    return relay;
  }

  /** Current state of a channel; a board powers up with every relay off (§8.1 [UNVERIFIED]). */
  isOn(channel: number): boolean {
    return this.state.get(channel) ?? false;
  }

  /** Index into `history` to pass as `since` to waitFor (commands after "now"). */
  mark(): number {
    return this.history.length;
  }

  /**
   * Resolve with the first command at index >= `since` (default 0: including
   * ones already received) that satisfies `predicate`; reject after `timeoutMs`.
   */
  waitFor(
    predicate: (c: RelayCommand) => boolean,
    timeoutMs: number,
    opts: { since?: number } = {},
  ): Promise<RelayCommand> {
    const since = opts.since ?? 0;
    const hit = this.history.slice(since).find(predicate);
    if (hit) return Promise.resolve(hit);
    const err = new HazriError("DEVICE_TIMEOUT", `relay ${this.path}: no matching command within ${timeoutMs} ms`);
    return new Promise((resolve, reject) => {
      const onCmd = (c: RelayCommand) => {
        if (!predicate(c)) return;
        clearTimeout(timer);
        this.off("command", onCmd);
        resolve(c);
      };
      const timer = setTimeout(() => {
        this.off("command", onCmd);
        err.message += `; history: ${JSON.stringify(this.history.slice(since).map((c) => [c.channel, c.on]))}`;
        reject(err);
      }, timeoutMs);
      this.on("command", onCmd);
    });
  }

  async close(): Promise<void> {
    this.framer.reset();
    await closeDeviceSerial(this.port);
  }

  private onData(chunk: Buffer): void {
    for (const f of this.framer.push(new Uint8Array(chunk))) {
      this.emit("frame", f);
      if (f.kind === "discarded") this.discardedBytes += f.bytes.length;
      else if (f.kind === "badChecksum") this.badChecksums++;
      else if (f.kind === "invalid" || (f.kind === "command" && f.channel > this.channels)) this.invalidFrames++;
      else {
        const cmd: RelayCommand = { channel: f.channel, on: f.on, at: performance.now(), wallAt: this.now() };
        this.state.set(f.channel, f.on);
        this.history.push(cmd);
        this.emit("command", cmd);
      }
    }
  }
}
