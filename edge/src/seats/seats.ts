import type { Logger } from "../../../protocol/clock.ts";
import type { EventDraft } from "../../../protocol/events.ts";
import { lanTopics } from "../../../protocol/topics.ts";
import { decodeTasmota } from "./tasmota.ts";

/**
 * Seat state from ESPHome-style sensors (device-protocols.md §7.4):
 *   `<node>/binary_sensor/<object>/state` ON → occupied, OFF → vacant
 *   `<node>/status` online / offline (birth + retained LWT) → offline = unknown
 *
 * §7.4 says ignore state from nodes with no `online`. Retained messages can
 * arrive in either order on (re)subscribe, so a state from a node whose
 * status we have not seen is *held*, not dropped: it takes effect when the
 * node's `online` arrives. A node seen `offline` makes all its seats unknown;
 * a held state then becomes current again on the next `online`.
 *
 * Events are recorded only on change of the effective state, after an
 * optional per-seat debounce (the state must stay put for `debounceMs`).
 *
 * A seat with `convention: "tasmota"` is a Tasmota device (§7.2, tasmota.ts):
 * `node` is its %topic%, `object` the relay (POWER, POWER1..) or switch key
 * (Switch1..), `tele/<topic>/LWT` Online/Offline is its status, with the same
 * hold/unknown rules. Its states are not retained (stat POWER, tele JSON every
 * TelePeriod), so after an edge restart the seat stays unknown until the next one.
 */
export interface SeatMapping {
  id: string;
  zone: string;
  node: string;
  object: string;
  /** Default "esphome". */
  convention?: "esphome" | "tasmota";
}

export type SeatState = "occupied" | "vacant" | "unknown";

export interface SeatTracker {
  handle(topic: string, payload: Uint8Array): void;
  state(seatId: string): SeatState | null;
  readonly counters: { malformed: number; ignored: number; changes: number };
  close(): void;
}

interface SeatSlot {
  map: SeatMapping;
  raw: "occupied" | "vacant" | null;
  recorded: SeatState | null;
  timer: NodeJS.Timeout | null;
}

export function createSeatTracker(opts: {
  seats: readonly SeatMapping[];
  debounceMs: number;
  record: (d: EventDraft) => void;
  logger: Logger;
}): SeatTracker {
  const log = opts.logger.child({ ns: "edge:seats" });
  const counters = { malformed: 0, ignored: 0, changes: 0 };
  const byKey = new Map<string, SeatSlot>();
  const byNode = new Map<string, SeatSlot[]>();
  const nodeStatus = new Map<string, "online" | "offline">();
  // Keys carry the convention: an ESPHome node and a Tasmota topic may share a name.
  const nodeKey = (m: { node: string; convention?: string | undefined }) => `${m.convention ?? "esphome"}:${m.node}`;
  for (const m of opts.seats) {
    const slot: SeatSlot = { map: m, raw: null, recorded: null, timer: null };
    byKey.set(`${nodeKey(m)}/${m.object}`, slot);
    byNode.set(nodeKey(m), [...(byNode.get(nodeKey(m)) ?? []), slot]);
  }

  const effective = (s: SeatSlot): SeatState | null => {
    const st = nodeStatus.get(nodeKey(s.map));
    if (st === "offline") return "unknown";
    if (st === "online") return s.raw; // null until the node reports a state
    return null; // never seen online: hold
  };

  const commit = (s: SeatSlot, state: SeatState) => {
    s.timer = null;
    if (s.recorded === state) return;
    s.recorded = state;
    counters.changes++;
    opts.record({ type: "seat", seat: s.map.id, zone: s.map.zone, state, source: "mqtt" });
  };

  const evaluate = (s: SeatSlot) => {
    const want = effective(s);
    if (want === null) return;
    if (s.timer) {
      clearTimeout(s.timer);
      s.timer = null;
    }
    if (want === s.recorded) return;
    if (opts.debounceMs <= 0) commit(s, want);
    else s.timer = setTimeout(() => commit(s, want), opts.debounceMs);
  };

  function handleTasmota(topic: string, payload: Uint8Array): void {
    const t = lanTopics.tasmota.parse(topic);
    if (!t) return;
    const slots = byNode.get(`tasmota:${t.topic}`);
    if (!slots) {
      if (t.name === "LWT" || /^POWER\d*$/.test(t.name) || ["STATE", "SENSOR", "RESULT"].includes(t.name)) counters.ignored++;
      return;
    }
    const text = new TextDecoder().decode(payload);
    let malformed: string | null = null;
    for (const s of slots) {
      const m = decodeTasmota(t.prefix, t.name, text, s.map.object);
      if (m.kind === "malformed") malformed = m.detail;
      else if (m.kind === "status") {
        nodeStatus.set(`tasmota:${t.topic}`, m.online ? "online" : "offline");
        for (const x of slots) evaluate(x);
        return;
      } else if (m.kind === "state") {
        s.raw = m.on ? "occupied" : "vacant";
        evaluate(s);
      }
    }
    if (malformed !== null) {
      counters.malformed++;
      log.debug({ topic, detail: malformed }, "malformed Tasmota payload");
    }
  }

  return {
    counters,
    state: (id) => {
      for (const s of byKey.values()) if (s.map.id === id) return s.recorded;
      return null;
    },
    handle(topic, payload) {
      const t = lanTopics.parse(topic);
      if (!t) return handleTasmota(topic, payload); // else not a sensor topic (e.g. attributes, discovery): not ours
      const text = new TextDecoder().decode(payload).trim();
      if (t.kind === "status") {
        if (text !== "online" && text !== "offline") {
          counters.malformed++;
          log.debug({ topic, text: text.slice(0, 32) }, "malformed status payload");
          return;
        }
        nodeStatus.set(`esphome:${t.node}`, text);
        for (const s of byNode.get(`esphome:${t.node}`) ?? []) evaluate(s);
        return;
      }
      const s = byKey.get(`esphome:${t.node}/${t.object}`);
      if (!s) {
        counters.ignored++;
        return;
      }
      if (text !== "ON" && text !== "OFF") {
        counters.malformed++;
        log.debug({ topic, text: text.slice(0, 32) }, "malformed state payload");
        return;
      }
      s.raw = text === "ON" ? "occupied" : "vacant";
      evaluate(s);
    },
    close() {
      for (const s of byKey.values()) if (s.timer) clearTimeout(s.timer);
    },
  };
}
