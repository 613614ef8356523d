import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { bitsToLine, wiegandBits, wiegandCardId, wiegandLineForCard } from "./wiegand-wire.ts";
import { wedgeCardId, wedgeDigitsForCard } from "./wedge-wire.ts";
import { encodeLd2410Basic, seatedAt } from "./ld2410-wire.ts";
import { toHex } from "./rdm6300-wire.ts";
// Cross-check: the edge's decoders read what the simulator writes.
import { decodeWiegandLine } from "../../../edge/src/devices/wiegand/decode.ts";
import { decodeWedgeLine } from "../../../edge/src/devices/wedge/decode.ts";
import { decodeLd2410 } from "../../../edge/src/devices/ld2410/decode.ts";

describe("sim Wiegand / wedge / LD2410 wire (§2.5, §3.1, §6.4 vectors)", () => {
  it("W26 FC 90 CN 324 = 00101101000000001010001000 = W26:0B40288", () => {
    const f = wiegandBits(26, (90 << 16) | 324);
    expect(f).toBe("00101101000000001010001000");
    expect(bitsToLine(f)).toBe("W26:0B40288");
  });
  it("EM 62E3086CED at W26 and W34 readers", () => {
    expect(wiegandLineForCard("62E3086CED", 26)).toBe("W26:210D9DB");
    expect(wiegandLineForCard("62E3086CED", 34)).toBe("W34:1C610D9DB");
    expect(wiegandBits(34, 0xe3086ced)).toBe("0111000110000100001101100111011011");
  });
  it("wedge digits for the §1.4 examples", () => {
    expect(wedgeDigitsForCard("62E3086CED")).toBe("3808980205");
    expect(wedgeDigitsForCard("0801161DD6")).toBe("0018226646");
    expect(wedgeDigitsForCard("01026F6C3A")).toBe("0040856634");
  });
  it("LD2410 stationary person at 1.20 m = the §6.4 vector", () => {
    expect(toHex(encodeLd2410Basic(seatedAt(120)))).toBe("F4 F3 F2 F1 0D 00 02 AA 02 00 00 00 78 00 3C 78 00 55 00 F8 F7 F6 F5");
  });
  it("property: the edge decodes every sim card line to the documented id; corrupted parity is rejected", () => {
    const hex10 = fc.stringMatching(/^[0-9A-F]{10}$/);
    fc.assert(
      fc.property(hex10, fc.constantFrom(26 as const, 34 as const), (card, bits) => {
        expect(decodeWiegandLine(wiegandLineForCard(card, bits))).toMatchObject({ ok: true, cardId: wiegandCardId(card, bits) });
        expect(decodeWiegandLine(wiegandLineForCard(card, bits, { corruptParity: true }))).toMatchObject({ ok: false, code: "FRAME_CHECKSUM" });
        expect(decodeWedgeLine(wedgeDigitsForCard(card))).toMatchObject({ ok: true, cardId: wedgeCardId(card) });
      }),
    );
  });
  it("property: the edge decodes every sim radar report", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), (state, a, b) => {
        const r = decodeLd2410(encodeLd2410Basic({ state: state as 0, movingCm: a, stillCm: b, detectCm: Math.min(a, b) }));
        expect(r).toMatchObject({ ok: true, kind: "report", report: { state, movingCm: a, stillCm: b, present: state !== 0 } });
      }),
    );
    expect(decodeLd2410(encodeLd2410Basic(seatedAt(80), { checkByte: 1 }))).toMatchObject({ ok: false, code: "FRAME_CHECKSUM" });
  });
});
