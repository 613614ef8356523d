/**
 * The NUT path of the simulator: a UPS whose state is written to a dummy-ups
 * `.dev` file (device-protocols.md §5.5), so a real `upsd` + `dummy-ups`
 * serve it and the edge's NUT client (and `upsc`) read it through NUT itself.
 *
 * dummy-once re-reads the file only when its mtime changes, and compares whole
 * seconds (§5.5, harness note): two writes in one second would look unchanged,
 * so every write moves the mtime at least one second past the previous one.
 * The write is in place (not rename) to keep the nut ownership and 0600 mode.
 */
import { rm, stat, utimes, writeFile } from "node:fs/promises";
import type { SimPowerModel } from "./ups-battery.ts";

export interface SimNutDevFileOptions {
  file: string;
  model: SimPowerModel;
  /** Re-write the file (if the state changed) this often; 0 = only on update() (default 1000 ms). */
  intervalMs?: number;
  mfr?: string;
  model_?: string;
}

export class SimNutDevFile {
  readonly file: string;
  readonly model: SimPowerModel;
  writes = 0;
  private lastText = "";
  private lastSec = 0;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  /** Extra/override variables (tests: e.g. { "ups.status": "OL BYPASS" }). */
  overrides: Record<string, string> = {};
  /**
   * Frozen: the file is no longer rewritten, so dummy-ups keeps serving the last values. Observed with
   * NUT 2.8.0 (test/sim-behaviours.test.ts): upsd does NOT call that stale — dummy-once marks its
   * data fresh on every poll whether the file changed or not — so nothing on the NUT path can tell.
   */
  stale = false;
  private unplugged = false;
  private intervalMs = 1000;

  private constructor(opts: SimNutDevFileOptions) {
    this.file = opts.file;
    this.model = opts.model;
  }

  /** Writes the file once before resolving (dummy-ups needs it to exist at start). */
  static async create(opts: SimNutDevFileOptions): Promise<SimNutDevFile> {
    const d = new SimNutDevFile(opts);
    await d.update();
    d.intervalMs = opts.intervalMs ?? 1000;
    d.startTimer();
    return d;
  }

  private startTimer(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.update().catch(() => undefined), this.intervalMs);
    this.timer.unref?.();
  }

  /**
   * Unplug: the `.dev` file is removed. NUT 2.8.0's dummy-ups then exits (observed: upsd answers
   * DRIVER-NOT-CONNECTED, `upsc`: "Driver not connected"), like a driver losing its USB device.
   */
  async unplug(): Promise<void> {
    if (this.unplugged) return;
    this.unplugged = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.chain;
    await rm(this.file, { force: true });
  }

  /** Replug: the file is written again (a fresh mtime); the driver must be restarted by its supervisor (upsdrvctl, systemd, the test harness). */
  async replug(): Promise<void> {
    if (!this.unplugged) return;
    this.unplugged = false;
    this.lastText = "";
    await this.update();
    this.startTimer();
  }

  get isUnplugged(): boolean {
    return this.unplugged;
  }

  vars(): Record<string, string> {
    const s = this.model.snapshot();
    return {
      "ups.mfr": "Simulated",
      "ups.model": "CW-1500",
      "device.type": "ups",
      "ups.status": this.model.nutStatus(s),
      "ups.load": String(s.loadPct),
      "battery.charge": String(Math.round(s.chargePct)),
      "battery.runtime": String(s.runtimeS),
      "battery.voltage": s.batteryV.toFixed(1),
      "input.voltage": s.inputV.toFixed(1),
      "input.frequency": s.inputHz.toFixed(1),
      "output.voltage": s.outputV.toFixed(1),
      ...this.overrides,
    };
  }

  /** Write the file now if its content changed; resolves when written. Serialised. */
  update(): Promise<void> {
    const run = this.chain.then(() => this.write());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async write(): Promise<void> {
    if (this.stale || this.unplugged) return;
    const text = Object.entries(this.vars())
      .map(([k, v]) => `${k}: ${v}\n`)
      .join("");
    if (text === this.lastText) return;
    let before = 0;
    try {
      before = Math.floor((await stat(this.file)).mtimeMs / 1000);
    } catch {
      /* first write */
    }
    await writeFile(this.file, text, { flag: "w" });
    const sec = Math.max(Math.floor(Date.now() / 1000), before + 1, this.lastSec + 1);
    await utimes(this.file, sec, sec);
    this.lastSec = sec;
    this.lastText = text;
    this.writes++;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.chain;
  }
}
