/**
 * CRC-16/XMODEM with the Voltronic byte escape (device-protocols.md §4.2,
 * NUT common_voltronic-crc.c): polynomial 0x1021, init 0x0000, no reflection,
 * no final XOR (check "123456789" = 0x31C3). A CRC byte equal to 0x0A, 0x0D or
 * 0x28 is sent incremented by one, so CR only ever terminates and `(` only ever
 * starts a reply. Pure; no node:* imports.
 */
export function crc16xmodem(data: Uint8Array, from = 0, to = data.length): number {
  let crc = 0;
  for (let i = from; i < to; i++) {
    crc ^= (data[i] ?? 0) << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

const escape = (b: number): number => (b === 0x0a || b === 0x0d || b === 0x28 ? b + 1 : b);

/** The two CRC bytes as transmitted (high byte first, escaped). */
export function voltronicCrcBytes(data: Uint8Array, from = 0, to = data.length): [number, number] {
  const crc = crc16xmodem(data, from, to);
  return [escape(crc >> 8), escape(crc & 0xff)];
}

/** Command bytes: ASCII + escaped CRC + CR (§4.2 "Framing"). */
export function encodeVoltronicCommand(cmd: string): Uint8Array {
  const ascii = Uint8Array.from(cmd, (c) => c.charCodeAt(0) & 0x7f);
  const [hi, lo] = voltronicCrcBytes(ascii);
  const out = new Uint8Array(ascii.length + 3);
  out.set(ascii, 0);
  out[ascii.length] = hi;
  out[ascii.length + 1] = lo;
  out[ascii.length + 2] = 0x0d;
  return out;
}
