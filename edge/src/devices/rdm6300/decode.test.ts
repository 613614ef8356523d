import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeRdm6300, encodeRdm6300 } from "./decode.ts";
import { fromHex, toHex } from "../frame.ts";

describe("decodeRdm6300 (§1.5 vectors)", () => {
  it("decodes 62E3086CED with checksum 0x08", () => {
    expect(decodeRdm6300(fromHex("02 36 32 45 33 30 38 36 43 45 44 30 38 03"))).toEqual({
      ok: true,
      cardId: "62E3086CED",
      checksum: 0x08,
    });
  });
  it("decodes 01026F6C3A with checksum 0x3A", () => {
    expect(decodeRdm6300(fromHex("02 30 31 30 32 36 46 36 43 33 41 33 41 03"))).toMatchObject({
      ok: true,
      cardId: "01026F6C3A",
    });
  });
  it("rejects checksum 09 (computed 08)", () => {
    const r = decodeRdm6300(fromHex("02 36 32 45 33 30 38 36 43 45 44 30 39 03"));
    expect(r).toMatchObject({ ok: false, code: "FRAME_CHECKSUM" });
    expect(r.ok ? "" : r.detail).toContain("computed 0x08");
  });
  it("rejects missing ETX, wrong length, non-hex", () => {
    expect(decodeRdm6300(fromHex("02 36 32 45 33 30 38 36 43 45 44 30 38 0D"))).toMatchObject({ code: "FRAME_FORMAT" });
    expect(decodeRdm6300(fromHex("02 03"))).toMatchObject({ code: "FRAME_FORMAT" });
    expect(decodeRdm6300(fromHex("02 36 32 47 33 30 38 36 43 45 44 30 38 03"))).toMatchObject({ code: "FRAME_FORMAT" });
  });
  it("lower-case hex decodes to the canonical upper-case id", () => {
    expect(decodeRdm6300(fromHex("02 36 32 65 33 30 38 36 63 65 64 30 38 03"))).toMatchObject({ cardId: "62E3086CED" });
  });
  it("encode → bytes round-trip against the literal vector", () => {
    expect(toHex(encodeRdm6300("62E3086CED"))).toBe("0236324533303836434544303803");
  });
  it("never throws on arbitrary bytes; encode/decode round-trip", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 20 }), (b) => void decodeRdm6300(b)));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 5, maxLength: 5 }), (b) => {
        const id = toHex(b).toUpperCase();
        expect(decodeRdm6300(encodeRdm6300(id))).toMatchObject({ ok: true, cardId: id });
      }),
    );
  });
});
