/**
 * Wiegand bridge line format (device-protocols.md §2.4), written from the
 * reference and NOT from the edge's decoder (the simulator is the second,
 * independent implementation). Pure: no node:* imports.
 *
 * What a Wiegand reader sends for a 125 kHz EM card (§2.3): W26 carries EM
 * bytes 2–4 (FC = byte 2, CN = bytes 3–4), W34 carries bytes 1–4. Parity
 * (§2.2/§2.3): bit 1 makes the first half even, the last bit makes the
 * second half odd. The line is the whole frame as hex, first bit = MSB,
 * zero-padded to ceil(bits/4) digits.
 */
import { cardIdBytes } from "./rdm6300-wire.ts";

export type WiegandBits = 26 | 34;

/** Frame bits (transmission order, as '0'/'1') for `data` (bits-2 data bits). */
export function wiegandBits(bits: WiegandBits, data: number): string {
  const n = bits - 2;
  const d = data.toString(2).padStart(n, "0");
  if (d.length !== n) throw new TypeError(`W${bits} data must fit ${n} bits`);
  const half = n / 2; // 12 for W26, 16 for W34
  const count = (s: string) => [...s].filter((c) => c === "1").length;
  const even = count(d.slice(0, half)) % 2 === 1 ? "1" : "0";
  const odd = count(d.slice(half)) % 2 === 0 ? "1" : "0";
  return even + d + odd;
}

export function bitsToLine(frameBits: string): string {
  let hex = "";
  const padded = frameBits.padStart(Math.ceil(frameBits.length / 4) * 4, "0");
  for (let i = 0; i < padded.length; i += 4) hex += parseInt(padded.slice(i, i + 4), 2).toString(16).toUpperCase();
  return `W${frameBits.length}:${hex}`;
}

/** The data a Wiegand reader derives from an EM4100 id (10 hex) (§2.3). */
export function emToWiegandData(cardId10hex: string, bits: WiegandBits): number {
  const b = cardIdBytes(cardId10hex);
  const [b1, b2, b3, b4] = [b[1] ?? 0, b[2] ?? 0, b[3] ?? 0, b[4] ?? 0];
  return bits === 26 ? b2 * 65536 + b3 * 256 + b4 : b1 * 16777216 + b2 * 65536 + b3 * 256 + b4;
}

/** Line for an EM card at a W26/W34 reader; `corruptParity` flips the last (odd parity) bit. */
export function wiegandLineForCard(cardId10hex: string, bits: WiegandBits, opts: { corruptParity?: boolean } = {}): string {
  let f = wiegandBits(bits, emToWiegandData(cardId10hex, bits));
  if (opts.corruptParity) f = f.slice(0, -1) + (f.endsWith("1") ? "0" : "1");
  return bitsToLine(f);
}

/** The canonical id the edge should derive (hex of the data bits): W26 → 6 digits, W34 → 8. */
export function wiegandCardId(cardId10hex: string, bits: WiegandBits): string {
  return cardId10hex.toUpperCase().slice(bits === 26 ? 4 : 2);
}
