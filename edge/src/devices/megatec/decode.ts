/**
 * Pure Megatec "Q1" decoder (device-protocols.md §4.1). No node:* imports: the
 * simulator and dashboards may reuse it. Never throws; a complete but malformed
 * reply returns `{ ok: false, code, reason }` with a reason that says which rule
 * failed (field count, a non-numeric field, bad status bits, an echo).
 *
 * Reply: `(MMM.M NNN.N PPP.P QQQ RR.R S.SS TT.T b7b6b5b4b3b2b1b0<CR>`. We split
 * on single spaces (as NUT's blazer parser does) rather than trusting column
 * offsets: the battery field is `S.SS` on on-line units and `SS.S` on standby
 * units (§4.1 table), and a field a UPS cannot supply is all `@` (→ null).
 */
export interface Q1Bits {
  /** b7: utility fail, running on battery (NUT OB, else OL). */
  utilityFail: boolean;
  /** b6: battery low (NUT LB). */
  batteryLow: boolean;
  /** b5: bypass / boost / buck active (NUT TRIM | BYPASS | BOOST by out/in ratio). */
  bypassBoost: boolean;
  /** b4: UPS failed (NUT ups.alarm). */
  upsFailed: boolean;
  /** b3: 1 = standby / line-interactive unit, 0 = on-line (NUT ups.type). */
  standby: boolean;
  /** b2: test in progress (NUT CAL). */
  testInProgress: boolean;
  /** b1: shutdown active, an S command is counting down (NUT FSD). */
  shutdownActive: boolean;
  /** b0: beeper on. */
  beeperOn: boolean;
}

export interface Q1Status {
  inputV: number | null;
  /** Latched voltage of the last glitch or outage (§4.1). */
  inputFaultV: number | null;
  outputV: number | null;
  loadPct: number | null;
  inputHz: number | null;
  /** Per cell on on-line units, whole pack on standby units (§4.1). */
  batteryV: number | null;
  tempC: number | null;
  bits: Q1Bits;
  /** NUT `ups.status` tokens, mapped as blazer-common does (§4.1 table). */
  nutStatus: string[];
  /** NUT `ups.alarm` when b4 is set. */
  alarm: string | null;
}

export type Q1FailReason = "start" | "field_count" | "non_numeric" | "status_bits" | "echo";
export type Q1Result =
  | { ok: true; status: Q1Status }
  | { ok: false; code: "FRAME_FORMAT"; reason: Q1FailReason; field?: string; detail: string };

export const Q1_FIELDS = ["inputV", "inputFaultV", "outputV", "loadPct", "inputHz", "batteryV", "tempC"] as const;

/** ASCII text of a frame without its trailing CR (bytes outside ASCII become U+FFFD-free '?'). */
export function frameText(frame: Uint8Array): string {
  let end = frame.length;
  if (end > 0 && frame[end - 1] === 0x0d) end--;
  let s = "";
  for (let i = 0; i < end; i++) {
    const b = frame[i] ?? 0;
    s += b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : "?";
  }
  return s;
}

/** A number field, `@`-filled = unsupported (null); anything else = undefined (invalid). */
export function numField(s: string): number | null | undefined {
  if (/^@+(\.@+)?$/.test(s)) return null;
  if (!/^-?\d+(\.\d+)?$/.test(s)) return undefined;
  return Number(s);
}

export function decodeQ1(frame: Uint8Array): Q1Result {
  const text = frameText(frame);
  if (text === "Q1") return { ok: false, code: "FRAME_FORMAT", reason: "echo", detail: "Q1 echoed: command unsupported (§4.1)" };
  if (!text.startsWith("(")) return { ok: false, code: "FRAME_FORMAT", reason: "start", detail: `reply does not start with "(": ${JSON.stringify(text.slice(0, 20))}` };
  const parts = text.slice(1).split(" ");
  if (parts.length !== 8) {
    return { ok: false, code: "FRAME_FORMAT", reason: "field_count", detail: `${parts.length} fields, expected 8` };
  }
  const values: (number | null)[] = [];
  for (let i = 0; i < Q1_FIELDS.length; i++) {
    const raw = parts[i] ?? "";
    const v = numField(raw);
    const field = Q1_FIELDS[i] as string;
    if (v === undefined) return { ok: false, code: "FRAME_FORMAT", reason: "non_numeric", field, detail: `${field} is not a number: ${JSON.stringify(raw)}` };
    values.push(v);
  }
  const b = parts[7] ?? "";
  if (!/^[01]{8}$/.test(b)) return { ok: false, code: "FRAME_FORMAT", reason: "status_bits", field: "status", detail: `status must be 8 chars of 0/1: ${JSON.stringify(b)}` };
  const bit = (k: number) => b[k] === "1";
  const bits: Q1Bits = {
    utilityFail: bit(0),
    batteryLow: bit(1),
    bypassBoost: bit(2),
    upsFailed: bit(3),
    standby: bit(4),
    testInProgress: bit(5),
    shutdownActive: bit(6),
    beeperOn: bit(7),
  };
  const [inputV, inputFaultV, outputV, loadPct, inputHz, batteryV, tempC] = values as [
    number | null, number | null, number | null, number | null, number | null, number | null, number | null,
  ];
  return {
    ok: true,
    status: { inputV, inputFaultV, outputV, loadPct, inputHz, batteryV, tempC, bits, nutStatus: nutStatus(bits, inputV, outputV), alarm: bits.upsFailed ? "UPS selftest failed!" : null },
  };
}

/** NUT blazer-common mapping (§4.1 status-bit table). */
function nutStatus(b: Q1Bits, inputV: number | null, outputV: number | null): string[] {
  const s = [b.utilityFail ? "OB" : "OL"];
  if (b.batteryLow) s.push("LB");
  if (b.bypassBoost && inputV !== null && outputV !== null && inputV > 0) {
    // NUT compares output to input; ratios outside 0.5-1.5 are ignored (implausible).
    const r = outputV / inputV;
    if (r >= 0.5 && r <= 1.5) s.push(r < 0.95 ? "TRIM" : r < 1.05 ? "BYPASS" : "BOOST");
  }
  if (b.testInProgress) s.push("CAL");
  if (b.shutdownActive) s.push("FSD");
  if (b.upsFailed) s.push("ALARM");
  return s;
}

/** F reply (§4.1): `#MMM.M QQQ SS.SS RR.R` rated voltage, current, battery voltage, frequency. */
export type MegatecRatings = { ratedV: number | null; ratedA: number | null; batteryV: number | null; ratedHz: number | null };
export function decodeF(frame: Uint8Array): { ok: true; ratings: MegatecRatings } | { ok: false; code: "FRAME_FORMAT"; detail: string } {
  const text = frameText(frame);
  if (!text.startsWith("#")) return { ok: false, code: "FRAME_FORMAT", detail: "F reply must start with #" };
  const p = text.slice(1).split(" ");
  if (p.length !== 4) return { ok: false, code: "FRAME_FORMAT", detail: `${p.length} fields, expected 4` };
  const v = p.map(numField);
  if (v.some((x) => x === undefined)) return { ok: false, code: "FRAME_FORMAT", detail: "non-numeric field" };
  const [ratedV, ratedA, batteryV, ratedHz] = v as (number | null)[];
  return { ok: true, ratings: { ratedV: ratedV ?? null, ratedA: ratedA ?? null, batteryV: batteryV ?? null, ratedHz: ratedHz ?? null } };
}

/** I reply (§4.1): `#` + company(15) + ' ' + model(10) + ' ' + version(10). */
export function decodeI(frame: Uint8Array): { ok: true; company: string; model: string; version: string } | { ok: false; code: "FRAME_FORMAT"; detail: string } {
  const text = frameText(frame);
  if (!text.startsWith("#") || text.length !== 38) return { ok: false, code: "FRAME_FORMAT", detail: `I reply must be # + 37 chars, got ${text.length}` };
  return { ok: true, company: text.slice(1, 16).trim(), model: text.slice(17, 27).trim(), version: text.slice(28, 38).trim() };
}

/** The poll command (§4.1: command + CR). */
export const Q1_COMMAND: Uint8Array = Uint8Array.from([0x51, 0x31, 0x0d]);

/** Charge estimate from battery voltage: Q1 carries none (§4.1: "a design choice, not part of the protocol"). */
export function estimateChargePct(batteryV: number | null, range: { emptyV: number; fullV: number } | undefined): number | null {
  if (batteryV === null || range === undefined || range.fullV <= range.emptyV) return null;
  const pct = ((batteryV - range.emptyV) / (range.fullV - range.emptyV)) * 100;
  return Math.round(Math.min(100, Math.max(0, pct)));
}
