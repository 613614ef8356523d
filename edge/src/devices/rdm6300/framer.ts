import type { Frame, Framer } from "../frame.ts";

/**
 * RDM6300 framer (device-protocols.md §1.2): STX(0x02), 10 ASCII-hex ID chars,
 * 2 ASCII-hex checksum chars, ETX(0x03) = 14 bytes. The framer checks only the
 * *structure* (STX, 12 hex chars, ETX); the checksum is the decoder's job, so a
 * structurally valid frame with a bad checksum reaches the decoder and is
 * counted as FRAME_CHECKSUM there. Because the payload is ASCII hex, 0x02/0x03
 * never occur inside a frame, so a structurally valid frame never hides a
 * real frame and emitting it whole loses nothing.
 *
 * §1.2 rule 4: on a structural failure drop ONE byte (the STX) and rescan, since
 * a real frame may begin inside the garbage. The buffer never holds more than
 * one partial frame (≤ 13 bytes): bytes before an STX are discarded at once.
 */
export const RDM6300_FRAME_LEN = 14;
const STX = 0x02;
const ETX = 0x03;

export function isAsciiHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}

export class Rdm6300Framer implements Framer {
  #buf: Uint8Array = new Uint8Array(0);

  get buffered(): number {
    return this.#buf.length;
  }

  reset(): void {
    this.#buf = new Uint8Array(0);
  }

  push(chunk: Uint8Array): Frame[] {
    const out: Frame[] = [];
    let buf: Uint8Array;
    if (this.#buf.length === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.#buf.length + chunk.length);
      buf.set(this.#buf, 0);
      buf.set(chunk, this.#buf.length);
    }
    let i = 0;
    let noiseStart = -1;
    const flushNoise = (end: number) => {
      if (noiseStart >= 0 && end > noiseStart) {
        out.push({ kind: "discarded", bytes: buf.slice(noiseStart, end), reason: "noise" });
      }
      noiseStart = -1;
    };
    while (i < buf.length) {
      if (buf[i] !== STX) {
        if (noiseStart < 0) noiseStart = i;
        i++;
        continue;
      }
      flushNoise(i);
      if (buf.length - i < RDM6300_FRAME_LEN) break; // wait for the rest of the frame
      if (structurallyValid(buf, i)) {
        out.push({ kind: "frame", bytes: buf.slice(i, i + RDM6300_FRAME_LEN) });
        i += RDM6300_FRAME_LEN;
      } else {
        out.push({ kind: "discarded", bytes: buf.slice(i, i + 1), reason: "format" });
        i += 1;
      }
    }
    flushNoise(i);
    // Keep only the started, incomplete frame (bounded by RDM6300_FRAME_LEN - 1).
    this.#buf = i < buf.length ? buf.slice(i) : new Uint8Array(0);
    return out;
  }
}

/** Also used by the mid-buffer check: a 14-byte run starting with STX. */
function structurallyValid(buf: Uint8Array, at: number): boolean {
  if (buf[at + RDM6300_FRAME_LEN - 1] !== ETX) return false;
  for (let k = 1; k <= 12; k++) if (!isAsciiHex(buf[at + k] ?? 0)) return false;
  return true;
}
