/**
 * The physics behind the simulated UPS, inverter and NUT device: mains and
 * generator inputs, a battery that discharges under load and recharges on
 * utility. Deliberately simple (issue 4: "a simple battery discharge curve"):
 * energy bookkeeping in Wh, and a lead-acid-like voltage curve that is flat
 * most of the way and falls off near empty, so "low battery" arrives late and
 * fast, as it does on a real UPS. Time comes from an injected clock times
 * `speed` (scenarios compress a day into minutes). Pure; no node:* imports.
 */
export interface SimPowerModelOptions {
  /** Usable battery energy, Wh (default 600: a 1.5 kVA line-interactive UPS with 2 × 12 V 26 Ah). */
  capacityWh?: number;
  /** Load on the output, W (default 300). */
  loadW?: number;
  /** Rated output power, W, for load % (default 900). */
  ratedW?: number;
  /** Recharge power on utility, W (default 150). */
  chargeW?: number;
  /** 12 V blocks in series (default 2 → 24 V pack). */
  blocks?: number;
  /** Charge at start, % (default 100). */
  chargePct?: number;
  /** Low-battery threshold, % (default 20). */
  lowPct?: number;
  /** Generator start delay after setGenerator(true), in model ms (default 0). */
  generatorStartMs?: number;
  /** Grid / generator voltage and frequency (default 230 V, 50 Hz; Pakistan). */
  gridV?: number;
  gridHz?: number;
  generatorHz?: number;
  /** Model time runs `speed` × the clock (default 1). */
  speed?: number;
  now?: () => number;
}

export interface PowerSnapshot {
  mains: boolean;
  generator: boolean;
  /** Generator asked to run but still cranking. */
  generatorStarting: boolean;
  utility: boolean;
  chargePct: number;
  batteryLow: boolean;
  /** Battery exhausted on battery power: the output is off. */
  outputOn: boolean;
  inputV: number;
  inputHz: number;
  outputV: number;
  loadPct: number;
  batteryV: number;
  /** Remaining runtime at the current load, s. */
  runtimeS: number;
  charging: boolean;
  discharging: boolean;
}

export class SimPowerModel {
  private readonly o: Required<Omit<SimPowerModelOptions, "now">>;
  private readonly now: () => number;
  private mains = true;
  /** A flapping feed (plant.flapMains): mains is scheduled on but keeps dropping out. */
  private dropout = false;
  private genRequested = false;
  private genSince = 0; // model ms
  private energyWh: number;
  private lastT: number; // model ms
  private readonly t0: number;

  constructor(opts: SimPowerModelOptions = {}) {
    this.o = {
      capacityWh: opts.capacityWh ?? 600,
      loadW: opts.loadW ?? 300,
      ratedW: opts.ratedW ?? 900,
      chargeW: opts.chargeW ?? 150,
      blocks: opts.blocks ?? 2,
      chargePct: opts.chargePct ?? 100,
      lowPct: opts.lowPct ?? 20,
      generatorStartMs: opts.generatorStartMs ?? 0,
      gridV: opts.gridV ?? 230,
      gridHz: opts.gridHz ?? 50,
      generatorHz: opts.generatorHz ?? 50,
      speed: opts.speed ?? 1,
    };
    this.now = opts.now ?? Date.now;
    this.t0 = this.now();
    this.lastT = 0;
    this.energyWh = (this.o.capacityWh * this.o.chargePct) / 100;
  }

  /** Model milliseconds since creation. */
  modelMs(): number {
    return (this.now() - this.t0) * this.o.speed;
  }

  private generatorRunning(t: number): boolean {
    return this.genRequested && t - this.genSince >= this.o.generatorStartMs;
  }

  /** Integrate energy up to now (piecewise: the generator may have started in between). */
  private advance(): void {
    const t = this.modelMs();
    while (this.lastT < t) {
      let until = t;
      if (this.genRequested && !this.generatorRunning(this.lastT)) until = Math.min(t, this.genSince + this.o.generatorStartMs);
      if (until <= this.lastT) until = t;
      const hours = (until - this.lastT) / 3_600_000;
      const utility = this.mainsLive() || this.generatorRunning(this.lastT);
      const delta = utility ? this.o.chargeW * hours : -this.o.loadW * hours;
      this.energyWh = Math.min(this.o.capacityWh, Math.max(0, this.energyWh + delta));
      this.lastT = until;
    }
  }

  setMains(on: boolean): void {
    this.advance();
    this.mains = on;
  }

  /** Mains present as far as the load is concerned: scheduled on and not dropped out. */
  private mainsLive(): boolean {
    return this.mains && !this.dropout;
  }

  /** A dropout of a scheduled-on mains (a chattering breaker, brown-outs): flapping only ever removes power. */
  setMainsDropout(out: boolean): void {
    this.advance();
    this.dropout = out;
  }

  setGenerator(on: boolean): void {
    this.advance();
    if (on && !this.genRequested) this.genSince = this.lastT;
    this.genRequested = on;
  }

  setLoadW(w: number): void {
    this.advance();
    this.o.loadW = Math.max(0, w);
  }

  /** Jump the battery to a charge (tests: "battery almost empty"). */
  setChargePct(pct: number): void {
    this.advance();
    this.energyWh = (this.o.capacityWh * Math.min(100, Math.max(0, pct))) / 100;
  }

  snapshot(): PowerSnapshot {
    this.advance();
    const t = this.lastT;
    const gen = this.generatorRunning(t);
    const utility = this.mainsLive() || gen;
    const frac = this.o.capacityWh > 0 ? this.energyWh / this.o.capacityWh : 0;
    const chargePct = Math.round(frac * 1000) / 10;
    const outputOn = utility || this.energyWh > 0;
    // Per 12 V block under load: ~10.5 V empty, ~12.9 V full, flat then a knee near empty.
    const block = utility && frac < 1 ? 13.6 : 10.5 + 2.4 * Math.pow(frac, 0.4);
    const loadPct = outputOn ? Math.round((this.o.loadW / this.o.ratedW) * 100) : 0;
    return {
      mains: this.mainsLive(),
      generator: gen,
      generatorStarting: this.genRequested && !gen,
      utility,
      chargePct,
      batteryLow: !utility && chargePct <= this.o.lowPct,
      outputOn,
      inputV: utility ? this.o.gridV : 0,
      inputHz: utility ? (this.mainsLive() ? this.o.gridHz : this.o.generatorHz) : 0,
      outputV: outputOn ? this.o.gridV : 0,
      loadPct,
      batteryV: Math.round(block * this.o.blocks * 10) / 10,
      runtimeS: this.o.loadW > 0 ? Math.round((this.energyWh / this.o.loadW) * 3600) : 0,
      charging: utility && frac < 1,
      discharging: !utility && this.energyWh > 0,
    };
  }

  /** NUT ups.status tokens the model's true state corresponds to (§5.4). */
  nutStatus(s: PowerSnapshot = this.snapshot()): string {
    const t = [s.utility ? "OL" : "OB"];
    if (s.discharging) t.push("DISCHRG");
    if (s.charging) t.push("CHRG");
    if (s.batteryLow) t.push("LB");
    if (!s.outputOn) t.push("OFF");
    return t.join(" ");
  }
}
