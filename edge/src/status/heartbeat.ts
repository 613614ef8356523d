import type { Clock } from "../../../protocol/clock.ts";
import type { EventDraft, HeartbeatEvent } from "../../../protocol/events.ts";

/**
 * Heartbeat events (issue 3: default every 30 s): outbox depth, device health,
 * uplink round trip, and — optional, additive fields — member cache version,
 * the persisted coalesced counter, replay progress and the clock offset. A
 * heartbeat is an ordinary event in the outbox (coalescible under pressure:
 * only the newest one is kept), so a dark edge shows as a gap in heartbeats.
 */
export type HeartbeatFields = Omit<Extract<EventDraft, { type: "heartbeat" }>, "type" | "uptimeS">;

export interface Heartbeat {
  /** Record one heartbeat now. */
  beat(): void;
  stop(): void;
}

export function startHeartbeat(o: {
  intervalS: number;
  clock: Clock;
  record: (d: EventDraft) => void;
  fields: () => HeartbeatFields;
  onError?: (e: unknown) => void;
}): Heartbeat {
  const startMono = o.clock.mono();
  const beat = () => {
    try {
      const f = o.fields();
      const ev: Omit<HeartbeatEvent, "v" | "centerId" | "bootId" | "seq" | "ts" | "mono" | "synced"> = {
        type: "heartbeat",
        ...f,
        uptimeS: Math.max(0, (o.clock.mono() - startMono) / 1000),
      };
      o.record(ev);
    } catch (e) {
      o.onError?.(e);
    }
  };
  const timer = setInterval(beat, o.intervalS * 1000);
  timer.unref?.();
  return {
    beat,
    stop: () => clearInterval(timer),
  };
}
