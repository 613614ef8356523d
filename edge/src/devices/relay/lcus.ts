/**
 * LCUS-1/2/4 USB relay (CH340) commands, device-protocols.md §8.1:
 * `A0 <channel> <op> <sum>` with op 00 = off, 01 = on and
 * sum = (A0 + channel + op) & 0xFF. The board sends no reply (§8.1), so the
 * door state must be confirmed by a reed switch, not by the relay.
 * Pure, no node:* imports.
 */
export function lcusCommand(channel: number, on: boolean): Uint8Array {
  if (!Number.isInteger(channel) || channel < 1 || channel > 0xff) {
    throw new RangeError(`LCUS relay channel must be 1..255, got ${channel}`);
  }
  const op = on ? 0x01 : 0x00;
  return Uint8Array.from([0xa0, channel, op, (0xa0 + channel + op) & 0xff]);
}

/** Parse a 4-byte LCUS command (simulator side); null when malformed or bad checksum. */
export function parseLcusCommand(bytes: Uint8Array): { channel: number; on: boolean } | null {
  if (bytes.length !== 4 || bytes[0] !== 0xa0) return null;
  const ch = bytes[1] ?? 0;
  const op = bytes[2] ?? 0xff;
  if (op > 1 || ((0xa0 + ch + op) & 0xff) !== bytes[3]) return null;
  return { channel: ch, on: op === 1 };
}
