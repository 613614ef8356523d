/**
 * Pure Voltronic/Axpert (PI30) reply decoder (device-protocols.md §4.2). No
 * node:* imports; never throws. A reply is `(` + ASCII payload + 2 CRC bytes
 * (+ CR, which the framer keeps); the CRC covers everything before it,
 * including the `(`.
 */
import { voltronicCrcBytes } from "./crc.ts";

export type VoltronicFail =
  | { ok: false; code: "FRAME_FORMAT"; reason: "start" | "length" | "field_count" | "non_numeric" | "status_bits"; field?: string; detail: string }
  | { ok: false; code: "FRAME_CHECKSUM"; reason: "crc"; detail: string }
  /** `(NAK`: the inverter refused the command (§4.2 "Errors"). */
  | { ok: false; code: "DEVICE_NAK"; reason: "nak"; detail: string };

/** Strip CR, check `(` and the escaped CRC; return the ASCII payload after `(`. */
export function voltronicPayload(frame: Uint8Array): { ok: true; payload: string } | VoltronicFail {
  let end = frame.length;
  if (end > 0 && frame[end - 1] === 0x0d) end--;
  if (frame[0] !== 0x28) return { ok: false, code: "FRAME_FORMAT", reason: "start", detail: "reply does not start with (" };
  if (end < 3) return { ok: false, code: "FRAME_FORMAT", reason: "length", detail: `reply of ${end} bytes is too short for a CRC` };
  const [hi, lo] = voltronicCrcBytes(frame, 0, end - 2);
  const gotHi = frame[end - 2] ?? -1;
  const gotLo = frame[end - 1] ?? -1;
  if (gotHi !== hi || gotLo !== lo) {
    const h = (n: number) => n.toString(16).padStart(2, "0");
    return { ok: false, code: "FRAME_CHECKSUM", reason: "crc", detail: `CRC ${h(gotHi)}${h(gotLo)}, computed ${h(hi)}${h(lo)}` };
  }
  let payload = "";
  for (let i = 1; i < end - 2; i++) payload += String.fromCharCode(frame[i] ?? 0);
  if (payload === "NAK") return { ok: false, code: "DEVICE_NAK", reason: "nak", detail: "(NAK: command refused" };
  return { ok: true, payload };
}

export interface QpigsDeviceStatus {
  sbuPriorityVersion: boolean; // b7
  configChanged: boolean; // b6
  sccFirmwareUpdated: boolean; // b5
  loadOn: boolean; // b4
  batteryVoltageSteady: boolean; // b3
  charging: boolean; // b2
  sccCharging: boolean; // b1 (solar)
  acCharging: boolean; // b0
}

export interface QpigsStatus {
  gridV: number;
  gridHz: number;
  acOutV: number;
  acOutHz: number;
  acOutVA: number;
  acOutW: number;
  loadPct: number;
  busV: number;
  batteryV: number;
  chargeA: number;
  capacityPct: number;
  heatsinkC: number;
  pvA: number;
  pvV: number;
  sccBatteryV: number;
  dischargeA: number;
  status: QpigsDeviceStatus;
  /** Fields 18-21 exist on newer PI30 firmwares only (§4.2, [UNVERIFIED] semantics). */
  fanOffsetMv10: number | null;
  eepromVersion: string | null;
  pvW: number | null;
  status2: { chargingToFloat: boolean; switchedOn: boolean } | null;
}

export type QpigsResult = { ok: true; status: QpigsStatus } | VoltronicFail;

const NUMERIC = [
  "gridV", "gridHz", "acOutV", "acOutHz", "acOutVA", "acOutW", "loadPct", "busV",
  "batteryV", "chargeA", "capacityPct", "heatsinkC", "pvA", "pvV", "sccBatteryV", "dischargeA",
] as const;

export function decodeQpigs(frame: Uint8Array): QpigsResult {
  const p = voltronicPayload(frame);
  if (!p.ok) return p;
  const parts = p.payload.split(" ");
  if (parts.length !== 17 && parts.length !== 21) {
    return { ok: false, code: "FRAME_FORMAT", reason: "field_count", detail: `${parts.length} fields, expected 17 or 21` };
  }
  const nums: Record<string, number> = {};
  for (let i = 0; i < NUMERIC.length; i++) {
    const raw = parts[i] ?? "";
    const field = NUMERIC[i] as string;
    if (!/^-?\d+(\.\d+)?$/.test(raw)) return { ok: false, code: "FRAME_FORMAT", reason: "non_numeric", field, detail: `${field} is not a number: ${JSON.stringify(raw)}` };
    nums[field] = Number(raw);
  }
  const b = parts[16] ?? "";
  if (!/^[01]{8}$/.test(b)) return { ok: false, code: "FRAME_FORMAT", reason: "status_bits", field: "status", detail: `device status must be 8 chars of 0/1: ${JSON.stringify(b)}` };
  const bit = (s: string, k: number) => s[k] === "1";
  const status: QpigsDeviceStatus = {
    sbuPriorityVersion: bit(b, 0),
    configChanged: bit(b, 1),
    sccFirmwareUpdated: bit(b, 2),
    loadOn: bit(b, 3),
    batteryVoltageSteady: bit(b, 4),
    charging: bit(b, 5),
    sccCharging: bit(b, 6),
    acCharging: bit(b, 7),
  };
  let extra: Pick<QpigsStatus, "fanOffsetMv10" | "eepromVersion" | "pvW" | "status2"> = { fanOffsetMv10: null, eepromVersion: null, pvW: null, status2: null };
  if (parts.length === 21) {
    const [f18, f19, f20, f21] = parts.slice(17) as [string, string, string, string];
    if (!/^\d+$/.test(f18)) return { ok: false, code: "FRAME_FORMAT", reason: "non_numeric", field: "fanOffsetMv10", detail: `field 18 not a number: ${JSON.stringify(f18)}` };
    if (!/^\d+$/.test(f20)) return { ok: false, code: "FRAME_FORMAT", reason: "non_numeric", field: "pvW", detail: `field 20 not a number: ${JSON.stringify(f20)}` };
    if (!/^[01]{3}$/.test(f21)) return { ok: false, code: "FRAME_FORMAT", reason: "status_bits", field: "status2", detail: `status2 must be 3 chars of 0/1: ${JSON.stringify(f21)}` };
    extra = { fanOffsetMv10: Number(f18), eepromVersion: f19, pvW: Number(f20), status2: { chargingToFloat: bit(f21, 0), switchedOn: bit(f21, 1) } };
  }
  return { ok: true, status: { ...(nums as unknown as Omit<QpigsStatus, "status" | keyof typeof extra>), status, ...extra } };
}

/** QMOD reply (§4.2): one letter. */
export type QmodMode = "power_on" | "standby" | "line" | "battery" | "fault" | "power_saving";
const MODES: Record<string, QmodMode> = { P: "power_on", S: "standby", L: "line", B: "battery", F: "fault", H: "power_saving" };
export function decodeQmod(frame: Uint8Array): { ok: true; mode: QmodMode } | VoltronicFail {
  const p = voltronicPayload(frame);
  if (!p.ok) return p;
  const m = MODES[p.payload];
  if (!m) return { ok: false, code: "FRAME_FORMAT", reason: "field_count", detail: `unknown QMOD mode ${JSON.stringify(p.payload)}` };
  return { ok: true, mode: m };
}
