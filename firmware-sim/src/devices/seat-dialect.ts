/**
 * What a simulated MQTT seat sensor says and where (device-protocols.md §7):
 * ESPHome (§7.1/§7.4: `<node>/status` online/offline, `<node>/binary_sensor/<object>/state`
 * ON/OFF, all retained) or Tasmota (§7.2: `tele/<topic>/LWT` Online/Offline retained;
 * a relay object POWER<n> on `stat/<topic>/POWER<n>` ON/OFF, a switch object on
 * `tele/<topic>/SENSOR` JSON; both not retained, and repeated every TelePeriod as
 * `tele/<topic>/STATE` / `SENSOR`). Written from the reference, not from the
 * edge's decoder (edge/src/seats/tasmota.ts), so each checks the other.
 */
import { lanTopics } from "../../../protocol/topics.ts";

export interface SeatDialect {
  convention: "esphome" | "tasmota";
  clientId: string;
  statusTopic: string;
  online: string;
  offline: string;
  stateTopic: string;
  retain: boolean;
  encode(on: boolean): string;
  /** Periodic telemetry (Tasmota TelePeriod); null for ESPHome (it publishes on change). */
  tele: { topic: string; encode(on: boolean): string } | null;
}

export function esphomeDialect(node: string, object: string): SeatDialect {
  return {
    convention: "esphome",
    clientId: node, // ESPHome's default client id is the node name
    statusTopic: lanTopics.status(node),
    online: "online",
    offline: "offline",
    stateTopic: lanTopics.state(node, object),
    retain: true,
    encode: (on) => (on ? "ON" : "OFF"),
    tele: null,
  };
}

/** Tasmota's `Time` field: local time without a zone, seconds precision. */
const tasmotaTime = () => new Date().toISOString().slice(0, 19);

export function tasmotaDialect(topic: string, object: string): SeatDialect {
  // Tasmota's default client id is DVES_ + the last 3 bytes of the chip id: derive 6 hex from the topic.
  let h = 0x811c9dc5;
  for (const c of topic) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  const base = { convention: "tasmota" as const, clientId: `DVES_${(h & 0xffffff).toString(16).toUpperCase().padStart(6, "0")}`, statusTopic: lanTopics.tasmota.lwt(topic), online: "Online", offline: "Offline", retain: false };
  if (/^POWER\d*$/.test(object)) {
    return {
      ...base,
      stateTopic: lanTopics.tasmota.power(topic, object),
      encode: (on) => (on ? "ON" : "OFF"),
      tele: { topic: lanTopics.tasmota.tele(topic, "STATE"), encode: (on) => JSON.stringify({ Time: tasmotaTime(), [object]: on ? "ON" : "OFF" }) },
    };
  }
  const sensor = (on: boolean) => JSON.stringify({ Time: tasmotaTime(), [object]: on ? "ON" : "OFF" });
  return { ...base, stateTopic: lanTopics.tasmota.tele(topic, "SENSOR"), encode: sensor, tele: { topic: lanTopics.tasmota.tele(topic, "SENSOR"), encode: sensor } };
}
