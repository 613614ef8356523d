/**
 * LCUS-1/2/4 USB relay command framing, written from device-protocols.md §8.1
 * and NOT from the edge's encoder (the simulator cross-checks the edge).
 * Pure: no node:* imports.
 *
 * Command (§8.1): A0 | channel (01..) | op (00 off, 01 on) | sum = (A0+ch+op) & 0xFF.
 * The board sends no reply. A board that sees a bad checksum ignores the
 * command; we count it so tests can assert the edge never sends one.
 */
export const LCUS_START = 0xa0;
export const LCUS_FRAME_LEN = 4;

export type LcusFrame =
  | { kind: "command"; channel: number; on: boolean; bytes: Uint8Array }
  /** Start byte seen, 4 bytes present, checksum wrong: ignored by the board. */
  | { kind: "badChecksum"; bytes: Uint8Array }
  /** Checksum right but op is not 00/01 or channel is 0: not a command we model (§8.1 [UNVERIFIED] extras). */
  | { kind: "invalid"; bytes: Uint8Array; reason: string }
  /** Bytes before a start byte (noise). */
  | { kind: "discarded"; bytes: Uint8Array };

export function lcusChecksum(channel: number, op: number): number {
  return (LCUS_START + channel + op) & 0xff;
}

/** The 4 bytes to switch `channel` (1-based). */
export function encodeLcus(channel: number, on: boolean): Uint8Array {
  if (!Number.isInteger(channel) || channel < 1 || channel > 0xff) throw new TypeError(`bad LCUS channel ${channel}`);
  const op = on ? 1 : 0;
  return Uint8Array.of(LCUS_START, channel, op, lcusChecksum(channel, op));
}

/**
 * Byte stream → frames. Own buffer; never throws. Resync rule: on a bad
 * checksum drop only the start byte and rescan, because the real command may
 * begin inside the 4 bytes we just rejected (same rule as §1.2 decoder rule 4).
 */
export class LcusFramer {
  private buf: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): LcusFrame[] {
    const merged = new Uint8Array(this.buf.length + chunk.length);
    merged.set(this.buf, 0);
    merged.set(chunk, this.buf.length);
    const out: LcusFrame[] = [];
    let i = 0;
    while (i < merged.length) {
      if (merged[i] !== LCUS_START) {
        let j = i;
        while (j < merged.length && merged[j] !== LCUS_START) j++;
        out.push({ kind: "discarded", bytes: merged.slice(i, j) });
        i = j;
        continue;
      }
      if (merged.length - i < LCUS_FRAME_LEN) break;
      const bytes = merged.slice(i, i + LCUS_FRAME_LEN);
      const ch = bytes[1] as number;
      const op = bytes[2] as number;
      const sum = bytes[3] as number;
      if (sum !== lcusChecksum(ch, op)) {
        out.push({ kind: "badChecksum", bytes });
        i += 1;
        continue;
      }
      if (ch === 0 || op > 1) out.push({ kind: "invalid", bytes, reason: ch === 0 ? "channel 0" : `op 0x${op.toString(16)}` });
      else out.push({ kind: "command", channel: ch, on: op === 1, bytes });
      i += LCUS_FRAME_LEN;
    }
    this.buf = merged.slice(i);
    return out;
  }

  /** Bytes held waiting for the rest of a frame. */
  pending(): number {
    return this.buf.length;
  }

  /** Drop a partial frame (port closed): never deliver half a command. */
  reset(): void {
    this.buf = new Uint8Array(0);
  }
}
