/**
 * Play a whole scenario — people (planCenterDay), power (planPower) and
 * internet (planInternet) — in compressed time. Device actions go to the
 * SimCenter (taps, seats), power transitions to a PowerControl (the power
 * devices: Q1/QPIGS UPS sims or NUT dummy-ups `setMains/setGenerator`), WAN
 * transitions to an InternetControl (a NetProxy between the edge and the
 * central broker), and every one of them is written to ground truth with the
 * true wall time it happened at (`t`) and its plan offset (`planMs`), in plan
 * order (truth-order.ts). Controls are optional: without one, the
 * transition is still ground truth (the scenario "scripts" it) so tests can
 * run before the devices exist.
 */
import type { SimCenter } from "./center.ts";
import type { GroundTruth } from "./ground-truth.ts";
import type { DayAction } from "./scenario-day.ts";
import type { InternetAction, PowerAction } from "./scenario-power.ts";
import { playPlan, readerBusySkips } from "./plan-play.ts";
import type { TruthSlot } from "./truth-order.ts";
import { applyFault, faultKey, type FaultAction } from "./faults/device-faults.ts";

export type ScenarioStep = DayAction | PowerAction | InternetAction | FaultAction;

/** What a scenario needs from the power devices (UPS/inverter sims, NUT dummy-ups). */
export interface PowerControl {
  setMains(on: boolean): void | Promise<void>;
  setGenerator(on: boolean): void | Promise<void>;
  /** Optional: battery state for devices that report it (charge %, low-battery flag). */
  setBattery?(s: { chargePct: number; lowBattery: boolean; onBattery: boolean }): void | Promise<void>;
}

/** What a scenario needs from the WAN: NetProxy satisfies it. */
export interface InternetControl {
  cut(): void | Promise<void>;
  restore(): void | Promise<void>;
}

export interface RunScenarioOptions {
  /** Device actions need a center; power/internet/person-only plans do not. */
  center?: SimCenter;
  /** Ground truth for person/power/internet records (default: the center's). */
  groundTruth?: GroundTruth;
  /** Default: the center's power plant (`center.power`), when there is a center. */
  power?: PowerControl;
  internet?: InternetControl;
  /** Sim-time speed-up (default 1). 1440 = a day in a minute. */
  speed?: number;
  /** Run until this sim ms even when the last step comes earlier (the devices keep living). Default: the last step. */
  durationMs?: number;
  signal?: AbortSignal;
  onStep?: (s: ScenarioStep) => void;
}

export interface RunScenarioSummary {
  planned: number;
  executed: number;
  stoppedEarly: boolean;
  byKind: Record<string, number>;
  /**
   * Taps not made because the reader was still busy with the previous card,
   * decided from the plan and the speed (plan-play.ts readerBusySkips), so
   * the same seed and speed always skip the same taps. Each one is a `skip`
   * ground-truth record.
   */
  skippedBusy: number;
  errors: string[];
}

export async function runScenario(plan: readonly ScenarioStep[], opts: RunScenarioOptions): Promise<RunScenarioSummary> {
  const speed = opts.speed ?? 1;
  if (!(speed > 0)) throw new RangeError(`speed must be > 0, got ${speed}`);
  const gt = opts.groundTruth ?? opts.center?.groundTruth;
  if (!gt) throw new RangeError("runScenario needs a center or a groundTruth");
  const s: RunScenarioSummary = { planned: plan.length, executed: 0, stoppedEarly: false, byKind: {}, skippedBusy: 0, errors: [] };
  // Reader-busy skips are part of the seeded plan (plan-play.ts), not of how fast this box is today.
  const skip = readerBusySkips(plan, speed);
  gt.write({ kind: "scenario", planMs: 0, speed, planned: plan.length, skippedBusy: skip.size });
  const r = await playPlan(plan, {
    speed,
    gt,
    signal: opts.signal,
    skip,
    onSkip: (a, slot) => {
      if (a.kind === "tap") slot.write({ kind: "skip", step: "tap", reader: a.reader, cardId: a.cardId.toUpperCase(), reason: "reader_busy" });
    },
    run: step,
    key: stepKey,
    ...(opts.durationMs !== undefined ? { untilMs: opts.durationMs } : {}),
    onDispatch: (a) => {
      s.byKind[a.kind] = (s.byKind[a.kind] ?? 0) + 1;
      opts.onStep?.(a);
    },
  });
  s.executed = r.executed;
  s.skippedBusy = r.skipped;
  s.stoppedEarly = r.stoppedEarly;
  s.errors = r.errors;
  return s;

  async function step(a: ScenarioStep, g: TruthSlot): Promise<void> {
    switch (a.kind) {
      case "tap":
        if (!opts.center) throw new Error("tap needs a center");
        await opts.center.tap(a.reader, a.cardId, { truth: g });
        return;
      case "seat":
        if (!opts.center) throw new Error("seat needs a center");
        await opts.center.setSeat(a.seat, a.occupied, { truth: g });
        return;
      case "person":
        g.write({ kind: "person", person: a.person, memberId: a.memberId, event: a.event, via: a.via, ...(a.seat !== undefined ? { seat: a.seat } : {}) });
        return;
      case "power": {
        // Truth first: the load switches at this instant whatever the devices make of it.
        g.write({ kind: "power", source: a.source, cause: a.cause, chargePct: a.chargePct });
        g.close(); // the devices' reactions below are not truth: later steps need not wait for them
        const p = opts.power ?? centerPower(opts.center);
        if (!p) return;
        if (a.cause === "mains_return") {
          await p.setMains(true);
          await p.setGenerator(false);
        } else if (a.cause === "load_shedding" || a.cause === "unscheduled_cut") await p.setMains(false);
        else if (a.cause === "generator_start") await p.setGenerator(true);
        await p.setBattery?.({ chargePct: a.chargePct, lowBattery: a.source === "low_battery" || a.source === "down", onBattery: a.source === "battery" || a.source === "low_battery" || a.source === "down" });
        return;
      }
      case "internet":
        g.write({ kind: "internet", up: a.up, cause: a.cause });
        g.close();
        if (a.up) await opts.internet?.restore();
        else await opts.internet?.cut();
        return;
      case "fault":
        if (!opts.center) throw new Error("fault needs a center");
        await applyFault(opts.center, a, g);
        return;
    }
  }
}

/** A device's steps run in plan order, one at a time (plan-play.ts `key`). */
export function stepKey(a: ScenarioStep): string | undefined {
  if (a.kind === "tap") return `reader:${a.reader}`;
  if (a.kind === "seat") return `seat:${a.seat}`;
  if (a.kind === "fault") return faultKey(a);
  if (a.kind === "power") return "power";
  return undefined;
}

/** The center's power plant when it has one (createSimCenter's `power` satisfies PowerControl). */
function centerPower(center: SimCenter | undefined): PowerControl | undefined {
  const p = (center as { power?: Partial<PowerControl> } | undefined)?.power;
  return p && typeof p.setMains === "function" && typeof p.setGenerator === "function" ? (p as PowerControl) : undefined;
}
