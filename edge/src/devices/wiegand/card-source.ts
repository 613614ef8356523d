import type { Framer } from "../frame.ts";
import { Rdm6300Framer } from "../rdm6300/framer.ts";
import { decodeRdm6300 } from "../rdm6300/decode.ts";
import { LineFramer, lineText } from "./line-framer.ts";
import { decodeWiegandLine } from "./decode.ts";
import { decodeWedgeLine } from "../wedge/decode.ts";

/**
 * The three card-reader wire formats behind one shape, so the access fast path
 * (access/reader.ts) stays format-agnostic: a framer factory and a decoder
 * that yields the canonical card id or a coded rejection. Only `ok` results
 * can reach a decision, so malformed input never grants (reliability matrix DA-8).
 *
 * Card ids per format (see each decoder and edge/README.md "Card ids"):
 *   rdm6300 → 10 hex (EM4100, all 5 bytes)   wiegand 26 → 6 hex (FC+CN)
 *   wiegand 34 → 8 hex (32 data bits)          wedge → 8 hex (the 10-digit print)
 */
export type CardDecode = { ok: true; cardId: string } | { ok: false; code: "FRAME_CHECKSUM" | "FRAME_FORMAT"; detail: string };

export type ReaderType = "rdm6300" | "wiegand" | "wedge";

export interface CardSource {
  framer(): Framer;
  decode(frame: Uint8Array): CardDecode;
}

export function cardSource(type: ReaderType, opts: { byteOrder?: "msb" | "lsb" } = {}): CardSource {
  switch (type) {
    case "rdm6300":
      return { framer: () => new Rdm6300Framer(), decode: decodeRdm6300 };
    case "wiegand":
      return {
        framer: () => new LineFramer({ maxLine: 64 }),
        decode(frame) {
          const r = decodeWiegandLine(lineText(frame));
          if (!r.ok) return r;
          if (r.kind === "card") return { ok: true, cardId: r.cardId };
          // PIN keypads and unknown bit lengths are not credentials here.
          return { ok: false, code: "FRAME_FORMAT", detail: r.kind === "key" ? `keypad key ${r.key} (PIN entry not supported)` : `W${r.bits} frame is not a card format` };
        },
      };
    case "wedge":
      return {
        framer: () => new LineFramer({ maxLine: 32 }),
        decode: (frame) => decodeWedgeLine(lineText(frame), opts.byteOrder ? { byteOrder: opts.byteOrder } : {}),
      };
  }
}
