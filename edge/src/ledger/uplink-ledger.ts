import type { Clock } from "../../../protocol/clock.ts";
import type { EventDraft } from "../../../protocol/events.ts";

/**
 * The edge's own ledger of its internet link (issue 3: "so that the server can
 * compute uptime for periods when the WAN was down"). Each transition becomes
 * an `uplink` event in the durable outbox, like any event, and reaches the
 * server after the outage. Field meanings are in protocol/README.md.
 *
 * The edge only *notices* a silent WAN at the MQTT keepalive timeout (MQTT.js
 * closes after ~1.5 × keepalive without a PINGRESP, cf. MQTT 3.1.1
 * §3.1.2.10), so a `down` carries `lastContactTs`: the wall time of the last
 * packet received from the broker, the best estimate of when the link died.
 * It is derived from the monotonic clock (now − (mono − lastContactMono)) so
 * a clock sync during the outage does not skew it.
 *
 * Transitions are de-duplicated: never two `up` or two `down` in a row in one
 * process. A graceful stop records nothing (not an outage).
 */
export interface UplinkLedger {
  /** Any packet from the broker arrived. */
  contact(): void;
  up(): void;
  /** The connection closed (`close`) or the first attempt of this process failed (`connect_failed`). */
  down(): void;
  state(): "up" | "down" | null;
}

export function createUplinkLedger(o: { clock: Clock; record: (d: EventDraft) => void }): UplinkLedger {
  let state: "up" | "down" | null = null;
  let everUp = false;
  let lastContactMono: number | null = null;
  return {
    contact() {
      lastContactMono = o.clock.mono();
    },
    up() {
      lastContactMono = o.clock.mono();
      if (state === "up") return;
      state = "up";
      everUp = true;
      o.record({ type: "uplink", state: "up", cause: "connack" });
    },
    down() {
      if (state === "down") return;
      state = "down";
      if (!everUp || lastContactMono === null) {
        o.record({ type: "uplink", state: "down", cause: "connect_failed" });
        return;
      }
      const lastContactTs = Math.max(0, Math.round(o.clock.now() - (o.clock.mono() - lastContactMono)));
      o.record({ type: "uplink", state: "down", cause: "close", lastContactTs });
    },
    state: () => state,
  };
}
