import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeWiegandLine, encodeWiegandLine } from "./decode.ts";
import { LineFramer, lineText } from "./line-framer.ts";
import { fromHex, toHex, type Frame } from "../frame.ts";

// Vector corpus, device-protocols.md §2.5 (verified vectors). Lines as the
// bridge sends them (ASCII, CRLF), written as hex like every corpus.
const ascii = (s: string) => toHex(new TextEncoder().encode(s));
const L_90_324 = ascii("W26:0B40288\r\n"); // FC 90 CN 324 (wiegand-encoder vector)
const L_EM26 = ascii("W26:210D9DB\r\n"); // EM 62E3086CED as W26: FC 8 CN 27885
const L_EM34 = ascii("W34:1C610D9DB\r\n"); // EM 62E3086CED as W34: data E3086CED
const L_BAD = ascii("W26:0B40289\r\n"); // corrupted last bit: odd parity bad

const decodeAll = (out: Frame[]) =>
  out.filter((f) => f.kind === "frame").map((f) => {
    const r = decodeWiegandLine(lineText(f.bytes));
    if (!r.ok) return r.code;
    return r.kind === "card" ? r.cardId : r.kind === "key" ? `key:${r.key}` : `raw:${r.bits}:${r.hex}`;
  });
function feed(chunks: string[], maxLine?: number): Frame[] {
  const f = new LineFramer(maxLine !== undefined ? { maxLine } : {});
  return chunks.flatMap((c) => f.push(fromHex(c)));
}

describe("Wiegand decoder (§2.5 vectors)", () => {
  it("W26 FC 90 CN 324", () => {
    expect(decodeWiegandLine("W26:0B40288")).toEqual({ ok: true, kind: "card", bits: 26, facility: 90, cardNumber: 324, cardId: "5A0144" });
  });
  it("W26 view of EM 62E3086CED = FC 8, CN 27885, card id 086CED (EM bytes 2-4)", () => {
    expect(decodeWiegandLine("W26:210D9DB")).toMatchObject({ ok: true, facility: 8, cardNumber: 27885, cardId: "086CED" });
  });
  it("W34 view of EM 62E3086CED = FC 0xE308, CN 0x6CED, card id E3086CED (EM bytes 1-4)", () => {
    expect(decodeWiegandLine("W34:1C610D9DB")).toMatchObject({ ok: true, bits: 34, facility: 0xe308, cardNumber: 0x6ced, cardId: "E3086CED" });
  });
  it("corrupted last bit: odd parity rejected", () => {
    expect(decodeWiegandLine("W26:0B40289")).toMatchObject({ ok: false, code: "FRAME_CHECKSUM", detail: "odd parity (bit 26) bad" });
  });
  it("corrupted first bit: even parity rejected", () => {
    expect(decodeWiegandLine("W26:2B40288")).toMatchObject({ ok: false, code: "FRAME_CHECKSUM", detail: "even parity (bit 1) bad" });
  });
  it("keypad W4:5, W4:B, W8:87 → 5, #, 7; W8 with a bad complement rejected", () => {
    expect(decodeWiegandLine("W4:5")).toMatchObject({ kind: "key", key: "5" });
    expect(decodeWiegandLine("W4:B")).toMatchObject({ kind: "key", key: "#" });
    expect(decodeWiegandLine("W8:87")).toMatchObject({ kind: "key", key: "7" });
    expect(decodeWiegandLine("W8:77")).toMatchObject({ ok: false, code: "FRAME_CHECKSUM" });
    expect(decodeWiegandLine("W4:C")).toMatchObject({ ok: false, code: "FRAME_FORMAT" });
  });
  it("host rules: syntax, width, lower case rejected; unknown lengths pass as raw", () => {
    for (const bad of ["W26:0b40288", "X26:0B40288", "W26:", "W:12", "W26 0B40288", "W26:4B40288", "W26:0B402880", "W0:0", "W123:0"])
      expect(decodeWiegandLine(bad)).toMatchObject({ ok: false, code: "FRAME_FORMAT" });
    expect(decodeWiegandLine("W37:1234567890")).toEqual({ ok: true, kind: "raw", bits: 37, hex: "1234567890" });
  });
  it("encoder reproduces the published lines (round trip)", () => {
    expect(encodeWiegandLine(26, (90 << 16) | 324)).toBe("W26:0B40288");
    expect(encodeWiegandLine(26, 0x086ced)).toBe("W26:210D9DB");
    expect(encodeWiegandLine(34, 0xe3086ced)).toBe("W34:1C610D9DB");
  });
  it("property: encode → decode round-trips every W26/W34 value; any single bit flip is rejected", () => {
    fc.assert(
      fc.property(fc.constantFrom(26 as const, 34 as const), fc.nat(), fc.nat(), (bits, raw, flip) => {
        const data = raw % 2 ** (bits - 2);
        const line = encodeWiegandLine(bits, data);
        const r = decodeWiegandLine(line);
        expect(r).toMatchObject({ ok: true, kind: "card", cardId: data.toString(16).toUpperCase().padStart((bits - 2) / 4, "0") });
        const v = BigInt(`0x${line.split(":")[1]}`) ^ (1n << BigInt(flip % bits));
        const bad = decodeWiegandLine(`W${bits}:${v.toString(16).toUpperCase().padStart(Math.ceil(bits / 4), "0")}`);
        expect(bad.ok).toBe(false);
      }),
    );
  });
  it("property: never throws on arbitrary strings", () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => void decodeWiegandLine(s)));
  });
});

describe("LineFramer corpus (bridge lines)", () => {
  it("one line", () => {
    expect(decodeAll(feed([L_90_324]))).toEqual(["5A0144"]);
  });
  it("two lines in one chunk", () => {
    expect(decodeAll(feed([L_EM26 + L_EM34]))).toEqual(["086CED", "E3086CED"]);
  });
  it("a line split across chunks, the LF alone in the last chunk", () => {
    expect(decodeAll(feed([ascii("W34:1C6"), ascii("10D9DB\r"), "0a"]))).toEqual(["E3086CED"]);
  });
  it("garbage before a line: a bad line is decoded as FRAME_FORMAT, binary noise discarded by the framer", () => {
    const out = feed(["ff 00 13 0d 0a" + ascii("junk\r\n") + L_EM26]);
    expect(out[0]).toMatchObject({ kind: "discarded", reason: "format" });
    expect(decodeAll(out)).toEqual(["FRAME_FORMAT", "086CED"]);
  });
  it("bad parity, then noise, then a valid line split over several writes", () => {
    const out = feed([L_BAD + "aa bb", "0d 0a" + ascii("W26:0B"), ascii("402"), ascii("88\r\n")]);
    expect(decodeAll(out)).toEqual(["FRAME_CHECKSUM", "5A0144"]);
    expect(out.some((f) => f.kind === "discarded" && toHex(f.bytes) === "aabb")).toBe(true);
  });
  it("a 1 MB line with no delimiter stays bounded and the next line still decodes", () => {
    const f = new LineFramer({ maxLine: 64 });
    const big = new Uint8Array(1 << 20).fill(0x41);
    const out = [...f.push(big.subarray(0, 500_000)), ...f.push(big.subarray(500_000))];
    expect(f.buffered).toBeLessThanOrEqual(64);
    expect(out).toEqual([]);
    const after = f.push(fromHex("0d0a" + L_EM26));
    expect(after[0]).toMatchObject({ kind: "discarded", reason: "too_long" });
    expect(decodeAll(after)).toEqual(["086CED"]);
  });
  it("CR-only and LF-only terminators; empty lines ignored", () => {
    expect(decodeAll(feed([ascii("W4:5\rW4:B\n\r\n\n")]))).toEqual(["key:5", "key:#"]);
  });
  it("property: splitting the byte stream anywhere yields the same frames", () => {
    const stream = fromHex(L_90_324 + "00 ff 41" + L_EM26 + L_BAD + L_EM34);
    const whole = new LineFramer().push(stream).map((f) => [f.kind, toHex(f.bytes)]);
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 12 }), (cuts) => {
        const f = new LineFramer();
        const pts = [0, ...[...cuts].sort((a, b) => a - b), stream.length];
        const got = pts.slice(1).flatMap((p, i) => f.push(stream.subarray(pts[i], p)));
        expect(got.map((x) => [x.kind, toHex(x.bytes)])).toEqual(whole);
      }),
    );
  });
  it("property: never throws and stays bounded on random bytes", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 10 }), (chunks) => {
        const f = new LineFramer({ maxLine: 32 });
        for (const c of chunks) f.push(c);
        expect(f.buffered).toBeLessThanOrEqual(32);
      }),
    );
  });
});
