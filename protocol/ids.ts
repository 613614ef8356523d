import { z } from "zod";

// Identifiers travel in MQTT topics and InfluxDB tags, so they are restricted to
// characters that need no escaping in either: MQTT topic levels must not contain
// '+', '#' or '/' (MQTT 3.1.1 §4.7.1), and Influx tag values would otherwise need
// escaping of ',', '=' and ' '. ESPHome/HA ids use the same alphabet (§7.3).
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export const CenterId = z.string().regex(ID, "center id: 1-64 of [A-Za-z0-9_-], starting alphanumeric");
export const BootId = z.string().regex(/^[A-Za-z0-9_-]{6,64}$/, "boot id: 6-64 of [A-Za-z0-9_-]");
/** Identity of one edge outbox database, made when the file is created (a wiped outbox gets a new one). */
export const OutboxId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "outbox id: 8-64 of [A-Za-z0-9_-]");
export const DeviceId = z.string().regex(ID, "device id: 1-64 of [A-Za-z0-9_-], starting alphanumeric");
export const MemberId = z.string().min(1).max(64);
/** Canonical card id: upper-case hex of the raw credential (EM4100: 10 hex digits, §1.4). */
export const CardId = z.string().regex(/^[0-9A-F]{2,32}$/, "card id: 2-32 upper-case hex digits");

export type CenterId = z.infer<typeof CenterId>;

export function isValidId(s: string): boolean {
  return ID.test(s);
}
