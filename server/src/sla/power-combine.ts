import type { PowerSource } from "../../../protocol/events.ts";
import type { Change } from "./intervals.ts";

/**
 * One center's power source from several power devices (docs/sla.md, Power).
 * Every UPS-role device keeps its own ledger (`power` events carry `device`;
 * the edge records a transition on every change of source or link, `unknown`
 * while the device's link is stale or was never up). The center's state is:
 *
 * - `unknown` when no device has a known state (all links down, or nothing
 *   read since the edge started): power is never taken as up without a reading;
 * - else the worst known state, down < low_battery < battery < generator <
 *   mains: a device that says the load it feeds has no power means part of the
 *   workspace has none (down counts), and a UPS that cannot tell a generator
 *   from mains (both OL) does not hide the device that can.
 *
 * A `boot` resets every device to unknown: a new run reports each configured
 * device afresh, so a device removed from the config (or a power service that
 * never started) is not carried along on its last word.
 */
export interface DevicePower {
  t: number;
  /** Device id ("" for edges that did not name it). */
  device: string;
  source: PowerSource;
}

const RANK: Record<Exclude<PowerSource, "unknown">, number> = { down: 0, low_battery: 1, battery: 2, generator: 3, mains: 4 };

export function worstKnown(states: Iterable<PowerSource>): PowerSource {
  let best: PowerSource = "unknown";
  for (const s of states) if (s !== "unknown" && (best === "unknown" || RANK[s] < RANK[best])) best = s;
  return best;
}

/**
 * The combined timeline. `prior`: each device's state before the first entry (at their times); `entries`
 * and `boots` in any order (a boot sorts before a device entry of the same millisecond: the edge records
 * it first). Returns the changes of the combined state, the first at the earliest time given.
 */
export function combinePower(prior: readonly DevicePower[], entries: readonly DevicePower[], boots: readonly number[]): Change<PowerSource>[] {
  type Step = { t: number; boot: true } | ({ boot: false } & DevicePower);
  const steps: Step[] = [
    ...boots.map((t) => ({ t, boot: true as const })),
    ...prior.map((p) => ({ ...p, boot: false as const })),
    ...entries.map((e) => ({ ...e, boot: false as const })),
  ];
  // Stable: at equal times boots first (the edge records its boot before anything else), then prior, then entries.
  const order = steps.map((s, i) => ({ s, i })).sort((a, b) => a.s.t - b.s.t || a.i - b.i);
  const devices = new Map<string, PowerSource>();
  const out: Change<PowerSource>[] = [];
  let cur: PowerSource | null = null;
  for (const { s } of order) {
    if (s.boot) devices.clear();
    else devices.set(s.device, s.source);
    const next = worstKnown(devices.values());
    if (next === cur) continue;
    const last = out.at(-1);
    // Several steps in one millisecond: only where it ends counts.
    if (last && last.t === s.t) {
      out.pop();
      if (out.at(-1)?.state === next) {
        cur = next;
        continue;
      }
    }
    out.push({ t: s.t, state: next });
    cur = next;
  }
  return out;
}
