import type { Frame, Framer } from "../frame.ts";

/**
 * CR-terminated reply framer for the Megatec family (device-protocols.md §4.1:
 * "Replies end with CR") and, with `start: [0x28]`, for Voltronic replies
 * (§4.2): there the two raw CRC bytes are escaped so that they are never 0x0D,
 * 0x0A or 0x28, hence "CR can only be the terminator, so splitting on 0x0D is
 * safe" and a `(` can only be a reply start.
 *
 * A frame is the bytes from the LAST start marker in a line up to and including
 * the CR (the CR stays in the frame so every byte is accounted for: frame,
 * discarded, or buffered). Bytes before that marker are line noise. A line with
 * no start marker is either an echo of our own command (§4.1: "a command the
 * UPS cannot handle is echoed back"; only with `bare`), or noise. A run longer
 * than `maxLen` without CR is discarded as `too_long`, keeping a trailing
 * started frame, so the buffer is bounded by `maxLen`.
 */
export interface CrFramerOptions {
  /** Bytes that start a reply: `(` for status replies, `#` for Megatec F/I replies. */
  start: readonly number[];
  /** Longest frame including CR (Q1 = 47, QPIGS = 110; leave room for other replies). */
  maxLen: number;
  /** Longest marker-less printable line passed on as a frame (an echoed command); 0 = none. */
  bare?: number;
}

const CR = 0x0d;

export class CrFramer implements Framer {
  #buf: Uint8Array = new Uint8Array(0);
  readonly #start: Set<number>;
  readonly #maxLen: number;
  readonly #bare: number;

  constructor(opts: CrFramerOptions) {
    this.#start = new Set(opts.start);
    this.#maxLen = opts.maxLen;
    this.#bare = opts.bare ?? 0;
  }

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
    let pos = 0;
    for (;;) {
      const cr = buf.indexOf(CR, pos);
      if (cr < 0) break;
      this.#line(buf, pos, cr, out);
      pos = cr + 1;
    }
    // Unterminated tail: bounded by maxLen - 1 (a frame needs room for its CR).
    if (buf.length - pos >= this.#maxLen) {
      const keepFrom = this.#lastStart(buf, pos, buf.length);
      const cut = keepFrom >= 0 && buf.length - keepFrom < this.#maxLen ? keepFrom : buf.length;
      out.push({ kind: "discarded", bytes: buf.slice(pos, cut), reason: "too_long" });
      pos = cut;
    }
    this.#buf = pos < buf.length ? buf.slice(pos) : new Uint8Array(0);
    return out;
  }

  #lastStart(buf: Uint8Array, from: number, to: number): number {
    for (let i = to - 1; i >= from; i--) if (this.#start.has(buf[i] ?? -1)) return i;
    return -1;
  }

  /** One line `buf[from, cr)` plus its CR at `cr`. */
  #line(buf: Uint8Array, from: number, cr: number, out: Frame[]): void {
    const s = this.#lastStart(buf, from, cr);
    if (s >= 0) {
      if (s > from) out.push({ kind: "discarded", bytes: buf.slice(from, s), reason: "noise" });
      if (cr + 1 - s > this.#maxLen) out.push({ kind: "discarded", bytes: buf.slice(s, cr + 1), reason: "too_long" });
      else out.push({ kind: "frame", bytes: buf.slice(s, cr + 1) });
      return;
    }
    const len = cr - from;
    if (len > 0 && len <= this.#bare && printable(buf, from, cr)) {
      out.push({ kind: "frame", bytes: buf.slice(from, cr + 1) });
      return;
    }
    out.push({ kind: "discarded", bytes: buf.slice(from, cr + 1), reason: "noise" });
  }
}

function printable(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = buf[i] ?? 0;
    if (b < 0x20 || b > 0x7e) return false;
  }
  return true;
}

/** Megatec replies: `(` status (Q1, 47 bytes), `#` ratings/identification (F 22, I 39); echoes up to 16 chars. */
export function createMegatecFramer(): CrFramer {
  return new CrFramer({ start: [0x28, 0x23], maxLen: 64, bare: 16 });
}
