/**
 * Pure HLK-LD2410 frame decoder (device-protocols.md §6.2 report layout, §6.3
 * ACKs). All numbers little-endian, distances in cm. Offsets 9–10 are the
 * MOVING target distance (ESPHome and vendor order; the old ncmreynolds
 * library swaps them, §6.2 note). No node:* imports; never throws.
 *
 * Occupancy (§6.4): target state != 0 → present.
 */
export interface Ld2410Report {
  mode: "basic" | "engineering";
  /** 0 none, 1 moving, 2 stationary, 3 both. */
  state: 0 | 1 | 2 | 3;
  present: boolean;
  movingCm: number;
  movingEnergy: number;
  stillCm: number;
  stillEnergy: number;
  detectCm: number;
  engineering?: { movingGates: number[]; stillGates: number[]; light: number | null; out: number | null };
}

export type Ld2410Result =
  | { ok: true; kind: "report"; report: Ld2410Report }
  | { ok: true; kind: "ack"; command: number; success: boolean; data: Uint8Array }
  | { ok: false; code: "FRAME_CHECKSUM" | "FRAME_FORMAT"; detail: string };

const u16 = (f: Uint8Array, at: number) => (f[at] ?? 0) | ((f[at + 1] ?? 0) << 8);

export function decodeLd2410(f: Uint8Array): Ld2410Result {
  if (f.length < 10) return { ok: false, code: "FRAME_FORMAT", detail: `length ${f.length}` };
  const len = u16(f, 4);
  if (f.length !== len + 10) return { ok: false, code: "FRAME_FORMAT", detail: `length field ${len} vs frame ${f.length}` };
  if (f[0] === 0xfd) {
    if (len < 4) return { ok: false, code: "FRAME_FORMAT", detail: "ACK too short" };
    const word = u16(f, 6);
    if ((word & 0x0100) === 0) return { ok: false, code: "FRAME_FORMAT", detail: `not an ACK word 0x${word.toString(16)}` };
    return { ok: true, kind: "ack", command: word & 0xfeff, success: u16(f, 8) === 0, data: f.slice(10, 6 + len) };
  }
  const type = f[6];
  if (f[7] !== 0xaa) return { ok: false, code: "FRAME_FORMAT", detail: "missing head 0xAA" };
  if (f[f.length - 6] !== 0x55) return { ok: false, code: "FRAME_FORMAT", detail: "missing tail 0x55" };
  // §6.2 "check 0x00": the only integrity byte the report has.
  if (f[f.length - 5] !== 0x00) return { ok: false, code: "FRAME_CHECKSUM", detail: `check byte 0x${(f[f.length - 5] ?? 0).toString(16)}` };
  const state = f[8] ?? 0;
  if (state > 3) return { ok: false, code: "FRAME_FORMAT", detail: `target state ${state}` };
  const base = {
    state: state as 0 | 1 | 2 | 3,
    present: state !== 0,
    movingCm: u16(f, 9),
    movingEnergy: f[11] ?? 0,
    stillCm: u16(f, 12),
    stillEnergy: f[14] ?? 0,
    detectCm: u16(f, 15),
  };
  if (type === 0x02) {
    if (len !== 0x0d) return { ok: false, code: "FRAME_FORMAT", detail: `basic report length ${len}` };
    return { ok: true, kind: "report", report: { mode: "basic", ...base } };
  }
  if (type === 0x01) {
    const n = f[17] ?? 0;
    const m = f[18] ?? 0;
    const gatesEnd = 19 + n + 1 + m + 1;
    const tailAt = f.length - 6;
    if (n > 8 || m > 8 || gatesEnd > tailAt) return { ok: false, code: "FRAME_FORMAT", detail: `engineering gates N=${n} M=${m} do not fit` };
    const movingGates = Array.from(f.subarray(19, 19 + n + 1));
    const stillGates = Array.from(f.subarray(19 + n + 1, gatesEnd));
    const extra = tailAt - gatesEnd;
    return {
      ok: true,
      kind: "report",
      report: { mode: "engineering", ...base, engineering: { movingGates, stillGates, light: extra >= 1 ? (f[gatesEnd] ?? null) : null, out: extra >= 2 ? (f[gatesEnd + 1] ?? null) : null } },
    };
  }
  return { ok: false, code: "FRAME_FORMAT", detail: `data type 0x${(type ?? 0).toString(16)}` };
}
