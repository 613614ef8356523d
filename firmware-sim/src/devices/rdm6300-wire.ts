/**
 * RDM6300 wire format, written from device-protocols.md §1.2 and NOT from the
 * edge's decoder: the simulator is the second, independent implementation that
 * cross-checks the edge. Pure: no node:* imports, Uint8Array in/out.
 *
 * Frame (14 bytes, §1.2): STX 0x02 | 10 ASCII hex (5 bytes, MSB first, upper
 * case) | 2 ASCII hex = XOR of the 5 decoded bytes | ETX 0x03.
 */
export const RDM6300_STX = 0x02;
export const RDM6300_ETX = 0x03;
export const RDM6300_FRAME_LEN = 14;

const HEX = "0123456789ABCDEF";

function asciiHexByte(b: number): [number, number] {
  return [HEX.charCodeAt((b >> 4) & 0x0f), HEX.charCodeAt(b & 0x0f)];
}

/** Parse a 10-hex-digit EM4100 id into its 5 bytes; throws TypeError on anything else. */
export function cardIdBytes(cardId10hex: string): Uint8Array {
  if (!/^[0-9A-Fa-f]{10}$/.test(cardId10hex)) {
    throw new TypeError(`RDM6300 card id must be 10 hex digits (EM4100, §1.2), got ${JSON.stringify(cardId10hex)}`);
  }
  const out = new Uint8Array(5);
  for (let i = 0; i < 5; i++) out[i] = parseInt(cardId10hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** XOR of the five decoded data bytes (§1.2 row "checksum"). */
export function rdm6300Checksum(data: Uint8Array): number {
  let x = 0;
  for (const b of data) x ^= b;
  return x & 0xff;
}

export interface EncodeOptions {
  /** Fault injection: send this checksum byte instead of the right one. */
  checksumOverride?: number;
}

/** The 14 bytes a real RDM6300 sends for `cardId10hex` (§1.2, vectors §1.5). */
export function encodeRdm6300(cardId10hex: string, opts: EncodeOptions = {}): Uint8Array {
  const data = cardIdBytes(cardId10hex);
  const sum = opts.checksumOverride ?? rdm6300Checksum(data);
  const frame = new Uint8Array(RDM6300_FRAME_LEN);
  frame[0] = RDM6300_STX;
  data.forEach((b, i) => {
    const [hi, lo] = asciiHexByte(b);
    frame[1 + i * 2] = hi;
    frame[2 + i * 2] = lo;
  });
  const [shi, slo] = asciiHexByte(sum & 0xff);
  frame[11] = shi;
  frame[12] = slo;
  frame[13] = RDM6300_ETX;
  return frame;
}

/** Same frame with the checksum off by one: a reader with a bad antenna read (§1.5 row 3). */
export function encodeRdm6300Corrupt(cardId10hex: string): Uint8Array {
  return encodeRdm6300(cardId10hex, { checksumOverride: (rdm6300Checksum(cardIdBytes(cardId10hex)) + 1) & 0xff });
}

export function toHex(bytes: Uint8Array, sep = " "): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0").toUpperCase()).join(sep);
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:]/g, "");
  if (!/^([0-9A-Fa-f]{2})*$/.test(clean)) throw new TypeError(`not a hex byte string: ${JSON.stringify(hex)}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}
