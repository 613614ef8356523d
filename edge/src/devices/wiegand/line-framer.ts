import type { Frame, Framer } from "../frame.ts";

/**
 * Line framer for the ASCII bridge/wedge formats (device-protocols.md §2.4
 * `W<bits>:<HEX>\r\n`, §3.1 "10 digits + Enter"). A frame is the bytes of one
 * line WITHOUT its terminator; CR, LF and CRLF all end a line (the bridge sends
 * CRLF, some wedge firmwares only CR). Empty lines are ignored.
 *
 * Bounded: a line longer than `maxLine` bytes is discarded (reason
 * "too_long") and everything up to the next terminator is dropped with it, so
 * a 1 MB line without a delimiter (issue 3, bad input) never grows the buffer
 * past `maxLine`. Bytes outside printable ASCII make the line a "format"
 * discard; the decoder never sees them. No node:* imports.
 */
const CR = 0x0d;
const LF = 0x0a;

export class LineFramer implements Framer {
  readonly #max: number;
  #buf: number[] = [];
  /** Inside an over-long line: drop until the next terminator. */
  #skipping = false;
  #skipped = 0;

  constructor(opts: { maxLine?: number } = {}) {
    this.#max = opts.maxLine ?? 64;
  }

  get buffered(): number {
    return this.#buf.length;
  }

  reset(): void {
    this.#buf = [];
    this.#skipping = false;
    this.#skipped = 0;
  }

  push(chunk: Uint8Array): Frame[] {
    const out: Frame[] = [];
    for (const b of chunk) {
      if (b === CR || b === LF) {
        if (this.#skipping) {
          // Report the dropped run by length only: its bytes are gone (bounded memory).
          out.push({ kind: "discarded", bytes: new Uint8Array(Math.min(this.#skipped, this.#max)), reason: "too_long" });
          this.#skipping = false;
          this.#skipped = 0;
        } else if (this.#buf.length > 0) {
          const line = Uint8Array.from(this.#buf);
          this.#buf = [];
          out.push(line.every((c) => c >= 0x20 && c < 0x7f) ? { kind: "frame", bytes: line } : { kind: "discarded", bytes: line, reason: "format" });
        }
        continue;
      }
      if (this.#skipping) {
        this.#skipped++;
        continue;
      }
      if (this.#buf.length >= this.#max) {
        this.#skipping = true;
        this.#skipped = this.#buf.length + 1;
        this.#buf = [];
        continue;
      }
      this.#buf.push(b);
    }
    return out;
  }
}

/** ASCII text of a frame (frames are printable ASCII by construction). */
export function lineText(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}
