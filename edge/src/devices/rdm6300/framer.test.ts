import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Rdm6300Framer } from "./framer.ts";
import { decodeRdm6300 } from "./decode.ts";
import { fromHex, toHex, type Frame } from "../frame.ts";

// Vector corpus, device-protocols.md §1.5 (verified vectors).
const V1 = "02 36 32 45 33 30 38 36 43 45 44 30 38 03"; // 62E3086CED, checksum 08
const V2 = "02 30 31 30 32 36 46 36 43 33 41 33 41 03"; // 01026F6C3A, checksum 3A
const BAD_SUM = "02 36 32 45 33 30 38 36 43 45 44 30 39 03"; // checksum chars "09"
const NO_ETX = "02 36 32 45 33 30 38 36 43 45 44 30 38 0D";
const LOWER = "02 36 32 65 33 30 38 36 63 65 64 30 38 03"; // 62e3086ced

const frames = (out: Frame[]) => out.filter((f) => f.kind === "frame").map((f) => toHex(f.bytes));
const ids = (out: Frame[]) =>
  out.filter((f) => f.kind === "frame").map((f) => {
    const r = decodeRdm6300(f.bytes);
    return r.ok ? r.cardId : r.code;
  });
const hx = (s: string) => toHex(fromHex(s));

function feed(chunks: string[]): Frame[] {
  const f = new Rdm6300Framer();
  return chunks.flatMap((c) => f.push(fromHex(c)));
}

describe("Rdm6300Framer corpus (§1.5)", () => {
  it("one frame", () => {
    expect(frames(feed([V1]))).toEqual([hx(V1)]);
  });
  it("two frames in one chunk", () => {
    expect(ids(feed([V1 + V2]))).toEqual(["62E3086CED", "01026F6C3A"]);
  });
  it("a frame split across chunks", () => {
    expect(ids(feed(["02 36 32 45", "33 30 38 36 43", "45 44 30 38 03"]))).toEqual(["62E3086CED"]);
  });
  it("the last byte (ETX) alone in the last chunk, and checksum chars alone", () => {
    expect(ids(feed(["02 36 32 45 33 30 38 36 43 45 44", "30 38", "03"]))).toEqual(["62E3086CED"]);
  });
  it("garbage before STX is discarded as noise (FF 00 + split frame, §1.5)", () => {
    const out = feed(["FF 00 02 36 32 45 33 30", "38 36 43 45 44 30 38 03"]);
    expect(ids(out)).toEqual(["62E3086CED"]);
    expect(out[0]).toMatchObject({ kind: "discarded", reason: "noise" });
    expect(toHex(out[0]!.bytes)).toBe("ff00");
  });
  it("bad checksum, then noise, then a valid frame split over several writes", () => {
    const out = feed([BAD_SUM + "AA BB 30", "02 30 31 30", "32 36 46 36", "43 33 41 33 41", "03"]);
    expect(ids(out)).toEqual(["FRAME_CHECKSUM", "01026F6C3A"]);
    expect(out.some((f) => f.kind === "discarded" && toHex(f.bytes) === "aabb30")).toBe(true);
  });
  it("missing ETX: drops one byte, rescans, finds the next frame", () => {
    const out = feed([NO_ETX + V2]);
    expect(ids(out)).toEqual(["01026F6C3A"]);
    expect(out[0]).toMatchObject({ kind: "discarded", reason: "format" });
    expect(out.filter((f) => f.kind === "discarded").reduce((n, f) => n + f.bytes.length, 0)).toBe(14);
  });
  it("a real frame starting inside a broken one is found (drop ONE byte, §1.2 rule 4)", () => {
    // STX + 5 hex chars, then a complete valid frame: the first 14 bytes fail, rescan finds V1.
    expect(ids(feed(["02 36 32 45 33 30" + V1]))).toEqual(["62E3086CED"]);
  });
  it("lower-case hex is accepted", () => {
    expect(ids(feed([LOWER]))).toEqual(["62E3086CED"]);
  });
  it("1 MB of noise with no STX keeps the buffer bounded", () => {
    const f = new Rdm6300Framer();
    const noise = new Uint8Array(1 << 20).fill(0x41);
    let discarded = 0;
    for (let i = 0; i < noise.length; i += 4096) {
      for (const fr of f.push(noise.subarray(i, i + 4096))) discarded += fr.bytes.length;
      expect(f.buffered).toBe(0);
    }
    expect(discarded).toBe(1 << 20);
    f.push(fromHex("02"));
    expect(f.buffered).toBe(1);
  });
});

describe("Rdm6300Framer properties (PB-3)", () => {
  const stream = fc.array(
    fc.oneof(
      fc.constant(fromHex(V1)),
      fc.constant(fromHex(V2)),
      fc.constant(fromHex(BAD_SUM)),
      fc.constant(fromHex(NO_ETX)),
      fc.uint8Array({ maxLength: 20 }),
    ),
    { maxLength: 12 },
  );
  it("splitting the byte stream anywhere yields the same frames; never throws; buffer ≤ 13", () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), (parts, cuts) => {
        const all = Uint8Array.from(parts.flatMap((p) => [...p]));
        const whole = new Rdm6300Framer().push(all);
        const f = new Rdm6300Framer();
        const points = [...new Set(cuts.map((c) => (all.length ? c % all.length : 0)))].sort((a, b) => a - b);
        const split: Frame[] = [];
        let prev = 0;
        for (const p of [...points, all.length]) {
          split.push(...f.push(all.slice(prev, p)));
          expect(f.buffered).toBeLessThanOrEqual(13);
          prev = p;
        }
        expect(frames(split)).toEqual(frames(whole));
        // every byte is either in a frame, discarded, or still buffered
        const count = (o: Frame[]) => o.reduce((n, x) => n + x.bytes.length, 0);
        expect(count(split) + f.buffered).toBe(all.length);
      }),
      { numRuns: 500 },
    );
  });
});
