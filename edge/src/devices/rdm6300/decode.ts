/**
 * Pure RDM6300 frame decoder (device-protocols.md §1.2, §1.4). No node:* imports:
 * firmware-sim and dashboards may reuse it. Never throws.
 *
 * The canonical card id is the upper-case 10-hex rendering of the 5 EM4100 data
 * bytes (§1.4: "store the canonical 10-hex string").
 */
export type Rdm6300Result =
  | { ok: true; cardId: string; checksum: number }
  | { ok: false; code: "FRAME_CHECKSUM" | "FRAME_FORMAT"; detail: string };

const STX = 0x02;
const ETX = 0x03;

function hexVal(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10; // lower case accepted defensively (§1.2 rule 2)
  return -1;
}

export function decodeRdm6300(frame: Uint8Array): Rdm6300Result {
  if (frame.length !== 14) return { ok: false, code: "FRAME_FORMAT", detail: `length ${frame.length}, expected 14` };
  if (frame[0] !== STX) return { ok: false, code: "FRAME_FORMAT", detail: "missing STX" };
  if (frame[13] !== ETX) return { ok: false, code: "FRAME_FORMAT", detail: "missing ETX" };
  const bytes: number[] = [];
  for (let k = 0; k < 6; k++) {
    const hi = hexVal(frame[1 + 2 * k] ?? 0);
    const lo = hexVal(frame[2 + 2 * k] ?? 0);
    if (hi < 0 || lo < 0) return { ok: false, code: "FRAME_FORMAT", detail: `non-hex character at offset ${1 + 2 * k}` };
    bytes.push((hi << 4) | lo);
  }
  const data = bytes.slice(0, 5);
  const checksum = bytes[5] ?? 0;
  // §1.2 rule 3: checksum = XOR of the five decoded data bytes.
  const computed = data.reduce((a, b) => a ^ b, 0);
  if (computed !== checksum) {
    return {
      ok: false,
      code: "FRAME_CHECKSUM",
      detail: `checksum mismatch (frame 0x${hex2(checksum)}, computed 0x${hex2(computed)})`,
    };
  }
  return { ok: true, cardId: data.map(hex2).join(""), checksum };
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, "0");
}

/** Encoder for tests and the simulator: canonical id → 14 wire bytes. */
export function encodeRdm6300(cardId: string): Uint8Array {
  if (!/^[0-9A-Fa-f]{10}$/.test(cardId)) throw new TypeError(`RDM6300 card id must be 10 hex digits: ${cardId}`);
  const data = [0, 1, 2, 3, 4].map((k) => parseInt(cardId.slice(2 * k, 2 * k + 2), 16));
  const sum = data.reduce((a, b) => a ^ b, 0);
  const ascii = (cardId.toUpperCase() + hex2(sum)).split("").map((c) => c.charCodeAt(0));
  return Uint8Array.from([STX, ...ascii, ETX]);
}
