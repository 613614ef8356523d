import { CrFramer } from "../megatec/framer.ts";

/**
 * Voltronic replies (device-protocols.md §4.2): `(` + payload + 2 CRC bytes + CR.
 * The escaped CRC is never 0x0D or 0x28, so the CR-line framer with `(` as the
 * only start marker is exact. QPIGS on 21-field firmwares is 110 bytes; QPIRI
 * is longer, so leave room. No bare lines: the inverter answers (NAK, never an echo.
 */
export function createQpigsFramer(): CrFramer {
  return new CrFramer({ start: [0x28], maxLen: 160 });
}
