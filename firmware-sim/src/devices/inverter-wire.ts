/**
 * Voltronic/Axpert PI30 wire format, from device-protocols.md §4.2 and NOT
 * from the edge's decoder (independent second implementation). CRC-16/XMODEM
 * (poly 0x1021, init 0, no reflection, no final XOR), high byte first, and a
 * CRC byte equal to 0x0A, 0x0D or 0x28 is sent +1. Pure; no node:* imports.
 */
export function xmodem(bytes: Uint8Array): number {
  let crc = 0x0000;
  for (const b of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const inBit = (b >> bit) & 1;
      const top = (crc >> 15) & 1;
      crc = (crc << 1) & 0xffff;
      if (top ^ inBit) crc ^= 0x1021;
    }
  }
  return crc;
}

const esc = (b: number) => ([0x0a, 0x0d, 0x28].includes(b) ? b + 1 : b);

export function withCrc(body: Uint8Array, corrupt = false): Uint8Array {
  const crc = xmodem(body);
  const hi = esc(crc >> 8);
  let lo = esc(crc & 0xff);
  if (corrupt) {
    // A wrong CRC that still obeys the escape rule (never CR/LF/'('), so only the CRC check can catch it.
    lo ^= 0x01;
    if (lo === 0x0a || lo === 0x0d || lo === 0x28) lo ^= 0x03;
  }
  const out = new Uint8Array(body.length + 3);
  out.set(body);
  out[body.length] = hi;
  out[body.length + 1] = lo;
  out[body.length + 2] = 0x0d;
  return out;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** A reply `(` + payload, CRC, CR. */
export function encodeReply(payload: string, corrupt = false): Uint8Array {
  return withCrc(ascii(`(${payload}`), corrupt);
}

/** Check a command line (without CR): ASCII + 2 CRC bytes. Returns the command text or null (bad CRC). */
export function parseCommand(line: Uint8Array): string | null {
  if (line.length < 3) return null;
  const body = line.subarray(0, line.length - 2);
  const crc = xmodem(body);
  if (line[line.length - 2] !== esc(crc >> 8) || line[line.length - 1] !== esc(crc & 0xff)) return null;
  return String.fromCharCode(...body);
}

export interface QpigsFields {
  gridV: number;
  gridHz: number;
  outV: number;
  outHz: number;
  outVA: number;
  outW: number;
  loadPct: number;
  busV: number;
  batteryV: number;
  chargeA: number;
  capacityPct: number;
  heatsinkC: number;
  pvA: number;
  pvV: number;
  sccV: number;
  dischargeA: number;
  /** b7..b0 (§4.2): SBU, config changed, SCC fw updated, load on, steady, charging, SCC charging, AC charging. */
  status: string;
  pvW: number;
  /** b10 b9 b8: charging to float, switched on, reserved. */
  status2: string;
}

const n = (v: number, width: number, decimals = 0) => {
  const s = Math.max(0, v).toFixed(decimals);
  return s.length >= width ? s : s.padStart(width, "0");
};

/** The 21-field payload (§4.2 table; widths as in the verified vector). */
export function qpigsPayload(f: QpigsFields): string {
  return [
    n(f.gridV, 5, 1), n(f.gridHz, 4, 1), n(f.outV, 5, 1), n(f.outHz, 4, 1), n(f.outVA, 4), n(f.outW, 4), n(f.loadPct, 3),
    n(f.busV, 3), n(f.batteryV, 5, 2), n(f.chargeA, 3), n(f.capacityPct, 3), n(f.heatsinkC, 4), n(f.pvA, 4), n(f.pvV, 5, 1),
    n(f.sccV, 5, 2), n(f.dischargeA, 5), f.status, "00", "00", n(f.pvW, 5), f.status2,
  ].join(" ");
}
