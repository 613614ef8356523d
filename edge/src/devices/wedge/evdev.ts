import type { Frame, Framer } from "../frame.ts";
import { LineFramer } from "../wiegand/line-framer.ts";

/**
 * Linux evdev adapter for HID keyboard-wedge readers (device-protocols.md §3.1):
 * `/dev/input/by-id/*-event-kbd` yields 24-byte `struct input_event` records
 * on 64-bit Linux: tv_sec u64, tv_usec u64, type u16 @16, code u16 @18,
 * value s32 @20 (little-endian on every platform we run on). We keep key-down
 * (type 1 = EV_KEY, value 1) of KEY_1..KEY_9 (2..10), KEY_0 (11) and
 * KEY_ENTER (28) / KEY_KPENTER (96), turn them into the ASCII the reader
 * "types", and hand that to the same LineFramer a serial wedge uses.
 *
 * Pure part; the device reader is evdev-device.ts (no EVIOCGRAB: see
 * edge/README.md "Keyboard-wedge readers").
 */
const RECORD = 24;
const KEYMAP: Record<number, number> = { 2: 0x31, 3: 0x32, 4: 0x33, 5: 0x34, 6: 0x35, 7: 0x36, 8: 0x37, 9: 0x38, 10: 0x39, 11: 0x30, 28: 0x0a, 96: 0x0a };

export class EvdevWedgeFramer implements Framer {
  #rec = new Uint8Array(RECORD);
  #have = 0;
  readonly #lines = new LineFramer({ maxLine: 32 });

  get buffered(): number {
    return this.#have + this.#lines.buffered;
  }

  reset(): void {
    this.#have = 0;
    this.#lines.reset();
  }

  push(chunk: Uint8Array): Frame[] {
    const ascii: number[] = [];
    for (const b of chunk) {
      this.#rec[this.#have++] = b;
      if (this.#have < RECORD) continue;
      this.#have = 0;
      const dv = new DataView(this.#rec.buffer);
      if (dv.getUint16(16, true) !== 1 || dv.getInt32(20, true) !== 1) continue; // EV_KEY, key down only
      const c = KEYMAP[dv.getUint16(18, true)];
      if (c !== undefined) ascii.push(c);
    }
    return ascii.length ? this.#lines.push(Uint8Array.from(ascii)) : [];
  }
}

/** Encoder for tests: typed text (digits and "\n") → the key-down/key-up records a kernel would deliver. */
export function encodeEvdevKeys(text: string): Uint8Array {
  const codeOf = (ch: string) => (ch === "\n" ? 28 : ch === "0" ? 11 : Number(ch) + 1);
  const out = new Uint8Array(text.length * 2 * RECORD);
  const dv = new DataView(out.buffer);
  [...text].forEach((ch, i) => {
    for (const [j, value] of [[0, 1], [1, 0]] as const) {
      const at = (i * 2 + j) * RECORD;
      dv.setUint16(at + 16, 1, true);
      dv.setUint16(at + 18, codeOf(ch), true);
      dv.setInt32(at + 20, value, true);
    }
  });
  return out;
}
