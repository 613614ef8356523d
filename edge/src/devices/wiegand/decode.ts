/**
 * Pure decoder for one Wiegand bridge line (device-protocols.md §2.4):
 *   `W<bits>:<HEX>`  (terminator already removed by LineFramer)
 * The bridge does no interpretation: HEX is the raw frame incl. parity bits,
 * most significant bit = first transmitted bit. The host validates (§2.4
 * "Host rules"): line syntax, value no wider than <bits>, parity for 26/34.
 * No node:* imports; never throws.
 *
 * Card id mapping (documented in edge/README.md, "Card ids"): the canonical
 * card id is upper-case hex of the raw credential (protocol/ids.ts CardId).
 * A Wiegand reader only hands us the DATA bits, so the credential is those:
 *   W26 (H10301, §2.2): bits 2–25 = FC(8) CN(16) → 6 hex digits, FC first
 *        (= EM4100 bytes 2–4, §2.3: EM `62E3086CED` reads as `086CED`)
 *   W34 (§2.3):         bits 2–33 = 32 bits      → 8 hex digits
 *        (= EM4100 bytes 1–4: `62E3086CED` reads as `E3086CED`, the same id a
 *        125 kHz keyboard wedge yields from its 10-digit print, wedge/decode.ts)
 * The EM version byte (and for W26 byte 1) never crosses the Wiegand wire, so
 * a member who uses one card on an RDM6300 AND a Wiegand reader is enrolled
 * with both ids (members have a `cards` list).
 */
export type WiegandResult =
  | { ok: true; kind: "card"; bits: 26 | 34; facility: number; cardNumber: number; cardId: string }
  | { ok: true; kind: "key"; bits: 4 | 8; key: string }
  /** Unknown bit length: passed upstream as raw hex (§2.4), never used for access. */
  | { ok: true; kind: "raw"; bits: number; hex: string }
  | { ok: false; code: "FRAME_CHECKSUM" | "FRAME_FORMAT"; detail: string };

const LINE = /^W(\d{1,2}):([0-9A-F]+)$/;
const KEYS = "0123456789*#";

function bit(v: bigint, n: number, k: number): number {
  return Number((v >> BigInt(n - k)) & 1n);
}
function ones(v: bigint, n: number, from: number, to: number): number {
  let c = 0;
  for (let k = from; k <= to; k++) c += bit(v, n, k);
  return c;
}
function field(v: bigint, n: number, from: number, to: number): number {
  return Number((v >> BigInt(n - to)) & ((1n << BigInt(to - from + 1)) - 1n));
}
const hex = (n: number, digits: number) => n.toString(16).toUpperCase().padStart(digits, "0");

/** Parity layout per format: [even-parity group end, odd-parity group start] (§2.2, §2.3). */
const LAYOUT = { 26: { evenTo: 13, oddFrom: 14, fcBits: 8 }, 34: { evenTo: 17, oddFrom: 18, fcBits: 16 } } as const;

export function decodeWiegandLine(line: string): WiegandResult {
  const m = LINE.exec(line);
  if (!m) return { ok: false, code: "FRAME_FORMAT", detail: `not a bridge line: ${JSON.stringify(line.slice(0, 40))}` };
  const bits = Number(m[1]);
  const digits = m[2] as string;
  if (bits === 0) return { ok: false, code: "FRAME_FORMAT", detail: "zero bit count" };
  if (digits.length > Math.ceil(bits / 4)) return { ok: false, code: "FRAME_FORMAT", detail: `${digits.length} hex digits for ${bits} bits` };
  const v = BigInt(`0x${digits}`);
  if (v >> BigInt(bits) !== 0n) return { ok: false, code: "FRAME_FORMAT", detail: `value wider than ${bits} bits` };

  if (bits === 26 || bits === 34) {
    const L = LAYOUT[bits];
    // Even parity bit 1: bits 1..evenTo hold an even number of ones. Odd parity
    // bit n: bits oddFrom..n hold an odd number of ones (§2.2 definitions).
    if (ones(v, bits, 1, L.evenTo) % 2 !== 0) return { ok: false, code: "FRAME_CHECKSUM", detail: "even parity (bit 1) bad" };
    if (ones(v, bits, L.oddFrom, bits) % 2 !== 1) return { ok: false, code: "FRAME_CHECKSUM", detail: `odd parity (bit ${bits}) bad` };
    const facility = field(v, bits, 2, 1 + L.fcBits);
    const cardNumber = field(v, bits, 2 + L.fcBits, bits - 1);
    const data = field(v, bits, 2, bits - 1);
    return { ok: true, kind: "card", bits, facility, cardNumber, cardId: hex(data, (bits - 2) / 4) };
  }
  if (bits === 4) {
    const k = Number(v);
    if (k >= KEYS.length) return { ok: false, code: "FRAME_FORMAT", detail: `keypad value ${k} out of range` };
    return { ok: true, kind: "key", bits, key: KEYS[k] as string };
  }
  if (bits === 8) {
    // §2.4 [UNVERIFIED]: key in the low nibble, its complement in the high nibble.
    const b = Number(v);
    const lo = b & 0x0f;
    if (b >> 4 !== (~lo & 0x0f)) return { ok: false, code: "FRAME_CHECKSUM", detail: "keypad nibble complement bad" };
    if (lo >= KEYS.length) return { ok: false, code: "FRAME_FORMAT", detail: `keypad value ${lo} out of range` };
    return { ok: true, kind: "key", bits, key: KEYS[lo] as string };
  }
  return { ok: true, kind: "raw", bits, hex: digits };
}

/** Encoder for tests and the simulator's cross-check: W26/W34 data bits → bridge line (parity added). */
export function encodeWiegandLine(bits: 26 | 34, data: number): string {
  const n = bits - 2;
  if (!Number.isInteger(data) || data < 0 || data >= 2 ** n) throw new TypeError(`W${bits} data must be 0..2^${n}-1`);
  const L = LAYOUT[bits];
  let v = BigInt(data) << 1n; // room for the trailing odd parity bit
  const evenOnes = ones(v, bits, 2, L.evenTo); // bit 1 is still 0 here
  const oddOnes = ones(v, bits, L.oddFrom, bits - 1);
  if (evenOnes % 2 === 1) v |= 1n << BigInt(bits - 1);
  if (oddOnes % 2 === 0) v |= 1n;
  return `W${bits}:${v.toString(16).toUpperCase().padStart(Math.ceil(bits / 4), "0")}`;
}
