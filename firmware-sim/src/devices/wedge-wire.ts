/**
 * Keyboard-wedge output (device-protocols.md §3.1, §1.4): a 125 kHz reader
 * "types" EM bytes 1–4 as a zero-padded 10-digit decimal, then Enter. Over a
 * serial-like stream (USB-CDC mode readers, and our pty) that is the ASCII
 * digits + CR LF. Pure, independent of the edge's decoder.
 */
import { cardIdBytes } from "./rdm6300-wire.ts";

export function wedgeDigitsForCard(cardId10hex: string): string {
  const b = cardIdBytes(cardId10hex);
  const v = (b[1] ?? 0) * 16777216 + (b[2] ?? 0) * 65536 + (b[3] ?? 0) * 256 + (b[4] ?? 0);
  return String(v).padStart(10, "0");
}

/** The id the edge should derive: the same 32 bits as 8 hex digits (= EM bytes 1–4). */
export function wedgeCardId(cardId10hex: string): string {
  return cardId10hex.toUpperCase().slice(2);
}
