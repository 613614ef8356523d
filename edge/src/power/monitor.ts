/**
 * Turns power inputs into `power` events (protocol/events.ts): one on every
 * transition of (source, link) — the edge's own ledger of power, from which
 * the SLA engineer computes uptime (each transition carries the new state and
 * the event time) — and a periodic metrics sample every `sampleMs`
 * (default 60 s) with the latest UPS figures. The state logic is state.ts.
 */
import type { Logger } from "../../../protocol/clock.ts";
import type { EventDraft, UpsMetrics } from "../../../protocol/events.ts";
import type { PowerReading } from "./reading.ts";
import { initialPowerState, stepPower, type PowerInput, type PowerState } from "./state.ts";

export interface PowerTracker {
  input(i: PowerInput): void;
  state(): PowerState;
  close(): void;
}

export function toUpsMetrics(r: PowerReading | null): UpsMetrics | null {
  if (!r) return null;
  return {
    status: r.status,
    chargePct: r.chargePct,
    runtimeS: r.runtimeS,
    batteryV: r.batteryV,
    inputV: r.inputV,
    outputV: r.outputV,
    loadPct: r.loadPct,
    tempC: r.tempC,
  };
}

export function createPowerTracker(o: {
  device: string;
  record: (d: EventDraft) => void;
  sampleMs: number;
  logger: Logger;
  /** Emit the initial `unknown/none` state at start (default true), so the ledger starts at boot. */
  emitInitial?: boolean;
}): PowerTracker {
  const log = o.logger.child({ ns: "edge:power", device: o.device });
  let st: PowerState = initialPowerState;
  const emit = (transition: boolean) =>
    o.record({ type: "power", source: st.source, link: st.link, device: o.device, ups: toUpsMetrics(st.reading), transition });
  if (o.emitInitial ?? true) emit(true);
  const timer = o.sampleMs > 0 ? setInterval(() => emit(false), o.sampleMs) : null;
  return {
    input(i) {
      const { next, changed } = stepPower(st, i);
      const prev = st;
      st = next;
      if (changed) {
        log.info({ from: prev.source, to: next.source, link: next.link }, "power transition");
        emit(true);
      }
    },
    state: () => st,
    close() {
      if (timer) clearInterval(timer);
    },
  };
}
