import type { Frame, Framer } from "../frame.ts";

/**
 * HLK-LD2410 framer (device-protocols.md §6.2, §6.3). Two frame families share
 * the stream: reports `F4 F3 F2 F1 | len(2, LE) | … | F8 F7 F6 F5` and
 * command ACKs `FD FC FB FA | len | … | 04 03 02 01`. Total = len + 10.
 *
 * §6.4 parser rules: resync on either header; reject a length > 64 as
 * implausible; require the matching footer; on failure drop ONE byte and
 * rescan (a real frame may start inside the garbage). The payload is binary,
 * so unlike RDM6300 a header can appear inside data: that is why the footer
 * check, not just the header, decides. Inner markers (`AA … 55 00`) and the
 * check byte are the decoder's job. Buffer bound: one partial frame (≤ 73 bytes).
 */
export const LD2410_MAX_LEN = 64;
const HEADERS = [
  { head: [0xf4, 0xf3, 0xf2, 0xf1], foot: [0xf8, 0xf7, 0xf6, 0xf5] },
  { head: [0xfd, 0xfc, 0xfb, 0xfa], foot: [0x04, 0x03, 0x02, 0x01] },
] as const;

function matchAt(buf: Uint8Array, at: number, pat: readonly number[]): "full" | "prefix" | "no" {
  for (let k = 0; k < pat.length; k++) {
    if (at + k >= buf.length) return "prefix";
    if (buf[at + k] !== pat[k]) return "no";
  }
  return "full";
}

export class Ld2410Framer implements Framer {
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
      if (noiseStart >= 0 && end > noiseStart) out.push({ kind: "discarded", bytes: buf.slice(noiseStart, end), reason: "noise" });
      noiseStart = -1;
    };
    scan: while (i < buf.length) {
      for (const h of HEADERS) {
        const m = matchAt(buf, i, h.head);
        if (m === "no") continue;
        flushNoise(i);
        if (m === "prefix" || buf.length - i < 6) break scan; // wait for more bytes
        const len = (buf[i + 4] ?? 0) | ((buf[i + 5] ?? 0) << 8);
        if (len > LD2410_MAX_LEN) {
          out.push({ kind: "discarded", bytes: buf.slice(i, i + 1), reason: "too_long" });
          i += 1;
          continue scan;
        }
        const total = len + 10;
        if (buf.length - i < total) break scan;
        if (matchAt(buf, i + total - 4, h.foot) === "full") {
          out.push({ kind: "frame", bytes: buf.slice(i, i + total) });
          i += total;
        } else {
          out.push({ kind: "discarded", bytes: buf.slice(i, i + 1), reason: "format" });
          i += 1;
        }
        continue scan;
      }
      if (noiseStart < 0) noiseStart = i;
      i++;
    }
    flushNoise(i);
    this.#buf = i < buf.length ? buf.slice(i) : new Uint8Array(0);
    return out;
  }
}
