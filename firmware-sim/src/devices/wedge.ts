/**
 * A keyboard-wedge reader in serial (USB-CDC) mode: types the 10-digit print
 * of the card + CR LF (device-protocols.md §3.1). A wedge has no checksum, so
 * `corruptChecksum` models its failure mode instead: a dropped keystroke
 * (9 digits), which the edge must reject. HID-mode readers (evdev) are not
 * simulated: see edge/src/devices/wedge/evdev.ts.
 */
import { SimLineReader } from "./wiegand.ts";
import { wedgeDigitsForCard } from "./wedge-wire.ts";

export function openSimWedgeReader(opts: { path: string }): Promise<SimLineReader> {
  return SimLineReader.openLine({
    path: opts.path,
    baudRate: 9600,
    encode: (card, corrupt) => {
      const d = wedgeDigitsForCard(card);
      return corrupt ? d.slice(0, 4) + d.slice(5) : d;
    },
  });
}
