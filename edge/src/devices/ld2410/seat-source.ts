import type { Logger } from "../../../../protocol/clock.ts";
import type { EventDraft } from "../../../../protocol/events.ts";
import type { Ld2410Report } from "./decode.ts";

/**
 * An LD2410 radar as a seat presence source (issue 3 "Seats"; device-protocols.md
 * §6.4: `state != 0` → present). Same debounce contract as the MQTT seats
 * (seats/seats.ts): a new state must stay put for `debounceMs` before it is
 * recorded, and events are recorded only on change of the effective state.
 * One difference forced by the device: the radar repeats its state ~10×/s, so a
 * repeat of the PENDING state must not restart the debounce timer (it would
 * never expire); only a change of the wanted state does.
 *
 * `maxDistanceCm` (optional) ignores targets farther than the desk, since the
 * radar also sees people walking past (§6.4: tune gates to the desk distance).
 * Link loss (serial liveness → `down`) makes the seat `unknown`, like an
 * ESPHome sensor's Last Will; the next report makes it known again.
 */
export interface RadarSeat {
  report(r: Ld2410Report): void;
  /** Serial link health of the radar. */
  link(up: boolean): void;
  state(): "occupied" | "vacant" | "unknown" | null;
  close(): void;
}

export function createRadarSeat(o: {
  seat: { id: string; zone: string };
  debounceMs: number;
  maxDistanceCm?: number;
  record: (d: EventDraft) => void;
  logger: Logger;
}): RadarSeat {
  const log = o.logger.child({ ns: "edge:seats:ld2410", seat: o.seat.id });
  type S = "occupied" | "vacant" | "unknown";
  let recorded: S | null = null;
  let pending: { state: S; timer: NodeJS.Timeout | null } | null = null;
  let closed = false;

  const commit = (state: S) => {
    pending = null;
    if (closed || recorded === state) return;
    recorded = state;
    o.record({ type: "seat", seat: o.seat.id, zone: o.seat.zone, state, source: "ld2410" });
    log.debug({ state }, "seat change");
  };
  const want = (state: S, immediate = false) => {
    if (closed) return;
    if (state === recorded) {
      if (pending?.timer) clearTimeout(pending.timer);
      pending = null;
      return;
    }
    if (pending?.state === state) return; // repeat of the pending state: keep its timer
    if (pending?.timer) clearTimeout(pending.timer);
    if (immediate || o.debounceMs <= 0) return commit(state);
    pending = { state, timer: setTimeout(() => commit(state), o.debounceMs) };
  };

  return {
    report(r) {
      const present = r.present && (o.maxDistanceCm === undefined || r.detectCm <= o.maxDistanceCm);
      want(present ? "occupied" : "vacant");
    },
    // Unknown is recorded at once (no debounce): it is a fact about the link, not a noisy reading.
    link(up) {
      if (!up) want("unknown", true);
    },
    state: () => recorded,
    close() {
      closed = true;
      if (pending?.timer) clearTimeout(pending.timer);
      pending = null;
    },
  };
}
