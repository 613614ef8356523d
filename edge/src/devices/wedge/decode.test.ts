import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeWedgeLine, encodeWedgeDigits } from "./decode.ts";
import { EvdevWedgeFramer, encodeEvdevKeys } from "./evdev.ts";
import { LineFramer, lineText } from "../wiegand/line-framer.ts";
import { fromHex, toHex, type Frame } from "../frame.ts";

// Corpus, device-protocols.md §1.4 / §3.1: the "10-digit decimal" print of EM ids.
const ascii = (s: string) => toHex(new TextEncoder().encode(s));
const ids = (out: Frame[]) =>
  out.filter((f) => f.kind === "frame").map((f) => {
    const r = decodeWedgeLine(lineText(f.bytes));
    return r.ok ? r.cardId : r.code;
  });
const feed = (chunks: string[]) => {
  const f = new LineFramer({ maxLine: 32 });
  return chunks.flatMap((c) => f.push(fromHex(c)));
};

describe("wedge decoder (§3.1)", () => {
  it("EM 62E3086CED types 3808980205 → E3086CED (same id as W34)", () => {
    expect(decodeWedgeLine("3808980205")).toEqual({ ok: true, value: 3808980205, cardId: "E3086CED" });
  });
  it("EM 0801161DD6 types 0018226646; EM 01026F6C3A types 0040856634", () => {
    expect(decodeWedgeLine("0018226646")).toMatchObject({ cardId: "01161DD6" });
    expect(decodeWedgeLine("0040856634")).toMatchObject({ cardId: "026F6C3A" });
  });
  it("13.56 MHz UID 52 9D 06 E3: big-endian 1386022627, reversed 3808861522 (byteOrder lsb) → same id", () => {
    expect(decodeWedgeLine("1386022627")).toMatchObject({ cardId: "529D06E3" });
    expect(decodeWedgeLine("3808861522", { byteOrder: "lsb" })).toMatchObject({ cardId: "529D06E3" });
  });
  it("rejects wrong length, non-digits and values over 32 bits", () => {
    for (const bad of ["380898020", "38089802055", "38089x0205", "", "4294967296", " 3808980205"])
      expect(decodeWedgeLine(bad)).toMatchObject({ ok: false, code: "FRAME_FORMAT" });
    expect(decodeWedgeLine("4294967295")).toMatchObject({ ok: true, cardId: "FFFFFFFF" });
  });
  it("property: encode → decode round trip; never throws", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (v) => {
      expect(decodeWedgeLine(encodeWedgeDigits(v))).toMatchObject({ ok: true, value: v });
    }));
    fc.assert(fc.property(fc.string({ maxLength: 30 }), (s) => void decodeWedgeLine(s)));
  });
});

describe("wedge line corpus", () => {
  it("one line (CR LF), two lines in one chunk, split lines", () => {
    expect(ids(feed([ascii("3808980205\r\n")]))).toEqual(["E3086CED"]);
    expect(ids(feed([ascii("3808980205\r0018226646\r")]))).toEqual(["E3086CED", "01161DD6"]);
    expect(ids(feed([ascii("38089"), ascii("80205"), "0d"]))).toEqual(["E3086CED"]);
  });
  it("a partial read (digits dropped) is rejected, the next line decodes", () => {
    expect(ids(feed([ascii("380898\r\n3808980205\r\n")]))).toEqual(["FRAME_FORMAT", "E3086CED"]);
  });
});

describe("evdev adapter (pure part)", () => {
  it("key-down records of 0032286640⏎ → the same line (§3.1 example)", () => {
    const f = new EvdevWedgeFramer();
    const bytes = encodeEvdevKeys("0032286640\n");
    const out = [...f.push(bytes.subarray(0, 100)), ...f.push(bytes.subarray(100))];
    expect(out.filter((x) => x.kind === "frame").map((x) => lineText(x.bytes))).toEqual(["0032286640"]);
  });
  it("key-up and non-key records are ignored", () => {
    const f = new EvdevWedgeFramer();
    const rec = new Uint8Array(24);
    new DataView(rec.buffer).setUint16(16, 4, true); // EV_MSC
    expect(f.push(rec)).toEqual([]);
    expect(f.buffered).toBe(0);
  });
});
