/**
 * Megatec Q1 / F / I replies, written from device-protocols.md §4.1 and NOT
 * from the edge's decoder (the simulator is the independent implementation
 * that cross-checks the edge). Fixed widths, zero padded: a Q1 reply is always
 * 46 characters + CR = 47 bytes. Pure; no node:* imports.
 */
export interface Q1Fields {
  inputV: number;
  inputFaultV: number;
  outputV: number;
  loadPct: number;
  inputHz: number;
  /** Pack voltage on standby units (`SS.S`), per cell on on-line units (`S.SS`). */
  batteryV: number;
  tempC: number;
  /** b7..b0 as booleans, b7 first (§4.1 status-bit table). */
  bits: [boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean];
}

const fixed = (v: number, width: number, decimals: number): string => {
  const s = Math.max(0, v).toFixed(decimals);
  return s.length >= width ? s.slice(0, width) : s.padStart(width, "0");
};

/** `(MMM.M NNN.N PPP.P QQQ RR.R S.SS|SS.S TT.T bbbbbbbb` without the CR. */
export function q1Text(f: Q1Fields): string {
  const batt = f.batteryV < 10 ? fixed(f.batteryV, 4, 2) : fixed(f.batteryV, 4, 1);
  return (
    "(" +
    [
      fixed(f.inputV, 5, 1),
      fixed(f.inputFaultV, 5, 1),
      fixed(f.outputV, 5, 1),
      fixed(Math.round(f.loadPct), 3, 0),
      fixed(f.inputHz, 4, 1),
      batt,
      fixed(f.tempC, 4, 1),
      f.bits.map((b) => (b ? "1" : "0")).join(""),
    ].join(" ")
  );
}

export const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

export function encodeQ1(f: Q1Fields): Uint8Array {
  return ascii(`${q1Text(f)}\r`);
}

/** F reply: `#MMM.M QQQ SS.SS RR.R` (§4.1). */
export function encodeF(ratedV: number, ratedA: number, batteryV: number, ratedHz: number): Uint8Array {
  return ascii(`#${fixed(ratedV, 5, 1)} ${fixed(ratedA, 3, 0)} ${fixed(batteryV, 5, 2)} ${fixed(ratedHz, 4, 1)}\r`);
}

/** I reply: `#` + company(15) + ' ' + model(10) + ' ' + version(10) + CR = 39 bytes (§4.1). */
export function encodeI(company: string, model: string, version: string): Uint8Array {
  return ascii(`#${company.padEnd(15).slice(0, 15)} ${model.padEnd(10).slice(0, 10)} ${version.padEnd(10).slice(0, 10)}\r`);
}
