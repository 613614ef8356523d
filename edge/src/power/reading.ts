/**
 * One normalised UPS/inverter reading, whatever the source (Megatec Q1, QPIGS,
 * NUT). Status is NUT's `ups.status` token set (device-protocols.md §5.4), so
 * the power state machine has one vocabulary: OL, OB, LB, CHRG, DISCHRG,
 * BYPASS, OFF, FSD, ... Pure; no node:* imports.
 */
import type { Q1Status } from "../devices/megatec/decode.ts";
import { estimateChargePct } from "../devices/megatec/decode.ts";
import type { QpigsStatus } from "../devices/qpigs/decode.ts";

export interface PowerReading {
  status: string[];
  chargePct: number | null;
  runtimeS: number | null;
  batteryV: number | null;
  inputV: number | null;
  outputV: number | null;
  loadPct: number | null;
  tempC: number | null;
}

/** Below this output voltage the load is unpowered: the UPS output is off or the battery is exhausted. */
export const OUTPUT_DEAD_V = 20;
/** Below this grid voltage a QPIGS inverter has no utility (it reports 0.0 or a few volts of noise). */
export const GRID_ABSENT_V = 90;

const tokenOk = (t: string) => /^[A-Z]{1,10}$/.test(t);
function finish(status: string[], outputV: number | null): string[] {
  const s = [...new Set(status.filter(tokenOk))];
  if (outputV !== null && outputV < OUTPUT_DEAD_V && !s.includes("OFF")) s.push("OFF");
  return s.slice(0, 16);
}

export function fromQ1(q: Q1Status, battery?: { emptyV: number; fullV: number }): PowerReading {
  return {
    status: finish(q.nutStatus, q.outputV),
    chargePct: estimateChargePct(q.batteryV, battery),
    runtimeS: null, // Q1 carries no runtime (§4.1)
    batteryV: q.batteryV,
    inputV: q.inputV,
    outputV: q.outputV,
    loadPct: q.loadPct,
    tempC: q.tempC,
  };
}

/**
 * QPIGS has no OL/OB bit: utility is "grid voltage present" (QMOD `L`/`B` says
 * the same, §4.2 "for a UPS-like view"); LB is our threshold on field 11
 * (battery capacity), configurable, because PI30 has no low-battery flag.
 */
export function fromQpigs(q: QpigsStatus, lowBatteryPct = 20): PowerReading {
  const s: string[] = [q.gridV >= GRID_ABSENT_V ? "OL" : "OB"];
  if (q.capacityPct <= lowBatteryPct) s.push("LB");
  if (q.status.charging) s.push("CHRG");
  if (q.dischargeA > 0) s.push("DISCHRG");
  return {
    status: finish(s, q.acOutV),
    chargePct: Math.min(100, Math.max(0, q.capacityPct)),
    runtimeS: null,
    batteryV: q.batteryV,
    inputV: q.gridV,
    outputV: q.acOutV,
    loadPct: q.loadPct,
    tempC: q.heatsinkC,
  };
}

const numOrNull = (v: string | undefined): number | null => {
  if (v === undefined || v.trim() === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

/** NUT variables (§5.4). `ups.status` is parsed as a set: order is not guaranteed. */
export function fromNutVars(vars: Record<string, string>): PowerReading {
  const status = (vars["ups.status"] ?? "").split(/\s+/).filter(Boolean);
  const charge = numOrNull(vars["battery.charge"]);
  return {
    status: [...new Set(status.filter(tokenOk))].slice(0, 16),
    chargePct: charge === null ? null : Math.min(100, Math.max(0, charge)),
    runtimeS: numOrNull(vars["battery.runtime"]),
    batteryV: numOrNull(vars["battery.voltage"]),
    inputV: numOrNull(vars["input.voltage"]),
    outputV: numOrNull(vars["output.voltage"]),
    loadPct: numOrNull(vars["ups.load"]),
    tempC: numOrNull(vars["ups.temperature"]),
  };
}
