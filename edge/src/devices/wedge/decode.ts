/**
 * Pure decoder for one keyboard-wedge line (device-protocols.md §3.1): the
 * factory default of cheap USB HID readers is 10 decimal digits + Enter.
 *   125 kHz EM: the digits are EM4100 bytes 1–4 as a uint32 (§1.4 "10-digit").
 *   13.56 MHz:  the 4-byte UID as uint32, byte order by model (§3.1): set
 *               `byteOrder: "lsb"` for readers that type the UID reversed.
 * Card id = 8 upper-case hex digits of that uint32, so a 125 kHz card gives
 * the same id through a wedge as through a Wiegand-34 reader (wiegand/decode.ts),
 * e.g. `3808980205` → `E3086CED` (EM `62E3086CED`). No node:* imports; never throws.
 */
export type WedgeResult = { ok: true; cardId: string; value: number } | { ok: false; code: "FRAME_FORMAT"; detail: string };

export function decodeWedgeLine(line: string, opts: { byteOrder?: "msb" | "lsb" } = {}): WedgeResult {
  if (!/^\d{10}$/.test(line)) return { ok: false, code: "FRAME_FORMAT", detail: `expected 10 digits, got ${JSON.stringify(line.slice(0, 24))}` };
  const value = Number(line);
  if (value > 0xffff_ffff) return { ok: false, code: "FRAME_FORMAT", detail: `${line} exceeds 32 bits` };
  const v = opts.byteOrder === "lsb" ? ((value & 0xff) << 24) + ((value >>> 8) & 0xff) * 65536 + ((value >>> 16) & 0xff) * 256 + (value >>> 24) : value;
  return { ok: true, value, cardId: (v >>> 0).toString(16).toUpperCase().padStart(8, "0") };
}

/** Encoder for tests and the simulator: 32-bit value → the 10 digits the reader types (no Enter). */
export function encodeWedgeDigits(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new TypeError("wedge value must be a uint32");
  return String(value).padStart(10, "0");
}
