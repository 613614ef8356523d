/**
 * HLK-LD2410 basic report frame (device-protocols.md §6.2), built from the
 * reference table, independent of the edge's decoder. Pure.
 *   F4 F3 F2 F1 | 0D 00 | 02 AA | state | mov cm(2) | mov E | still cm(2) | still E | detect cm(2) | 55 00 | F8 F7 F6 F5
 */
export interface RadarTarget {
  /** 0 none, 1 moving, 2 stationary, 3 both. */
  state: 0 | 1 | 2 | 3;
  movingCm?: number;
  movingEnergy?: number;
  stillCm?: number;
  stillEnergy?: number;
  detectCm?: number;
}

export function encodeLd2410Basic(t: RadarTarget, opts: { checkByte?: number } = {}): Uint8Array {
  const le = (v: number) => [v & 0xff, (v >> 8) & 0xff];
  return Uint8Array.from([
    0xf4, 0xf3, 0xf2, 0xf1,
    0x0d, 0x00,
    0x02, 0xaa,
    t.state,
    ...le(t.movingCm ?? 0), t.movingEnergy ?? 0,
    ...le(t.stillCm ?? 0), t.stillEnergy ?? 0,
    ...le(t.detectCm ?? 0),
    0x55, opts.checkByte ?? 0x00,
    0xf8, 0xf7, 0xf6, 0xf5,
  ]);
}

/** A seated person at `cm`: mostly stationary (§6.4 "a seated, still person mostly shows as stationary"). */
export const seatedAt = (cm: number): RadarTarget => ({ state: 2, stillCm: cm, stillEnergy: 60, detectCm: cm });
export const noTarget: RadarTarget = { state: 0 };
