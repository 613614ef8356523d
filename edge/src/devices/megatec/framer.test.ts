import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createMegatecFramer } from "./framer.ts";
import { createQpigsFramer } from "../qpigs/framer.ts";
import { fromHex, toHex, type Frame, type Framer } from "../frame.ts";

const ascii = (s: string) => toHex(Uint8Array.from(s, (c) => c.charCodeAt(0)));
// §4.1 simulator reply, 47 bytes with CR.
const Q1 = ascii("(229.8 229.8 229.8 023 50.0 27.3 31.0 00001001\r");
const Q1B = ascii("(000.0 000.0 219.0 041 50.0 22.1 29.0 11001001\r");
// §4.2 QPIGS vector: 110 bytes, CRC A1 E8.
const QPIGS = ascii("(230.0 50.0 230.0 50.0 0161 0119 003 360 26.50 012 085 0032 0004 085.2 26.55 00000 00010110 00 00 00341 010") + "a1e80d";

const frames = (out: Frame[]) => out.filter((f) => f.kind === "frame").map((f) => toHex(f.bytes));
function feed(f: Framer, chunks: string[]): Frame[] {
  return chunks.flatMap((c) => f.push(fromHex(c)));
}

describe("Megatec CR framer corpus", () => {
  it("one frame (CR kept), two frames in one chunk", () => {
    expect(frames(feed(createMegatecFramer(), [Q1]))).toEqual([Q1]);
    expect(frames(feed(createMegatecFramer(), [Q1 + Q1B]))).toEqual([Q1, Q1B]);
  });
  it("split across chunks; CR alone in the last chunk", () => {
    expect(frames(feed(createMegatecFramer(), [Q1.slice(0, 20), Q1.slice(20, 60), Q1.slice(60, -2), "0d"]))).toEqual([Q1]);
  });
  it("garbage before ( is noise; bad line, noise, then a valid frame over several writes", () => {
    const out = feed(createMegatecFramer(), ["ff00" + Q1.slice(0, 10), Q1.slice(10)]);
    expect(frames(out)).toEqual([Q1]);
    expect(out[0]).toMatchObject({ kind: "discarded", reason: "noise" });
    expect(toHex(out[0]!.bytes)).toBe("ff00");
    const out2 = feed(createMegatecFramer(), ["00ff0d aabb", Q1.slice(0, 30), Q1.slice(30)]);
    expect(frames(out2)).toEqual([Q1]);
    expect(out2.filter((f) => f.kind === "discarded").map((f) => toHex(f.bytes))).toEqual(["00ff0d", "aabb"]);
  });
  it("an echoed command is a bare frame; binary junk lines are not", () => {
    expect(frames(feed(createMegatecFramer(), [ascii("Q1\r")]))).toEqual([ascii("Q1\r")]);
    expect(frames(feed(createMegatecFramer(), ["0001020d"]))).toEqual([]);
  });
  it("1 MB without CR stays bounded, keeps a started frame, then frames resume", () => {
    const f = createMegatecFramer();
    let discarded = 0;
    for (let i = 0; i < 256; i++) {
      for (const fr of f.push(new Uint8Array(4096).fill(0x41))) discarded += fr.bytes.length;
      expect(f.buffered).toBeLessThan(64);
    }
    expect(discarded + f.buffered).toBe(1 << 20);
    expect(frames(f.push(fromHex(Q1)))).toEqual([Q1]);
  });
});

describe("QPIGS framer", () => {
  it("frames the 110-byte §4.2 vector whole and split at every byte", () => {
    expect(fromHex(QPIGS).length).toBe(110);
    const bytes = fromHex(QPIGS);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const f = createQpigsFramer();
      expect(frames([...f.push(bytes.slice(0, cut)), ...f.push(bytes.slice(cut))])).toEqual([QPIGS]);
    }
  });
});

describe("framer properties", () => {
  const parts = fc.array(
    fc.oneof(fc.constant(fromHex(Q1)), fc.constant(fromHex(Q1B)), fc.constant(fromHex(QPIGS)), fc.constant(fromHex("0d")), fc.uint8Array({ maxLength: 30 })),
    { maxLength: 12 },
  );
  for (const [name, make, cap] of [["megatec", createMegatecFramer, 64], ["qpigs", createQpigsFramer, 160]] as const) {
    it(`${name}: splitting anywhere yields the same frames; never throws; every byte accounted; buffer bounded`, () => {
      fc.assert(
        fc.property(parts, fc.array(fc.nat(), { maxLength: 10 }), (ps, cuts) => {
          const all = Uint8Array.from(ps.flatMap((p) => [...p]));
          const whole = make().push(all);
          const f = make();
          const points = [...new Set(cuts.map((c) => (all.length ? c % all.length : 0)))].sort((a, b) => a - b);
          const split: Frame[] = [];
          let prev = 0;
          for (const p of [...points, all.length]) {
            split.push(...f.push(all.slice(prev, p)));
            expect(f.buffered).toBeLessThan(cap);
            prev = p;
          }
          expect(frames(split)).toEqual(frames(whole));
          expect(split.reduce((n, x) => n + x.bytes.length, 0) + f.buffered).toBe(all.length);
        }),
        { numRuns: 500 },
      );
    });
  }
});
