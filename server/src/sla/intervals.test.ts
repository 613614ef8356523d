import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clip, darkFromInstants, intersect, normalize, stepTimeline, subtract, total, union } from "./intervals.ts";
import type { Interval } from "./intervals.ts";

const iv = fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 60 })).map(([s, d]) => ({ start: s, end: s + d }));
const ivs = fc.array(iv, { maxLength: 12 });
/** Brute force: the set of unit cells [k, k+1) covered. */
const cellsOf = (xs: Interval[]) => {
  const s = new Set<number>();
  for (const i of xs) for (let k = i.start; k < i.end; k++) s.add(k);
  return s;
};

describe("interval algebra", () => {
  it("normalize: sorted, disjoint, non-touching, same cover", () => {
    fc.assert(
      fc.property(ivs, (xs) => {
        const n = normalize(xs);
        for (let k = 1; k < n.length; k++) expect((n[k] as Interval).start).toBeGreaterThan((n[k - 1] as Interval).end);
        expect(cellsOf(n)).toEqual(cellsOf(xs));
      }),
    );
  });
  it("union / intersect / subtract agree with set operations on unit cells", () => {
    fc.assert(
      fc.property(ivs, ivs, (a, b) => {
        const A = cellsOf(a);
        const B = cellsOf(b);
        expect(cellsOf(union(a, b))).toEqual(new Set([...A, ...B]));
        expect(cellsOf(intersect(a, b))).toEqual(new Set([...A].filter((x) => B.has(x))));
        expect(cellsOf(subtract(a, b))).toEqual(new Set([...A].filter((x) => !B.has(x))));
        expect(total(a)).toBe(A.size);
      }),
    );
  });
  it("inclusion–exclusion: |A| = |A∩B| + |A−B|", () => {
    fc.assert(
      fc.property(ivs, ivs, (a, b) => {
        expect(total(intersect(a, b)) + total(subtract(a, b))).toBe(total(a));
      }),
    );
  });
  it("stepTimeline covers [from,to) exactly, each segment holds the last change at or before its start", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ t: fc.integer({ min: -20, max: 220 }), state: fc.constantFrom("a", "b", "c") }), { maxLength: 15 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        (raw, from, len) => {
          const changes = [...raw].sort((x, y) => x.t - y.t);
          const segs = stepTimeline(changes, from, from + len, "init");
          expect(segs.reduce((s, x) => s + x.end - x.start, 0)).toBe(len);
          for (const s of segs) {
            const prior = changes.filter((c) => c.t <= s.start);
            expect(s.state).toBe(prior.length ? prior[prior.length - 1]?.state : "init");
          }
        },
      ),
    );
  });
  it("darkFromInstants: a cell is dark iff no instant pair within maxGap brackets it", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { maxLength: 30 }), fc.integer({ min: 1, max: 40 }), (raw, gap) => {
        const xs = [...raw].sort((a, b) => a - b);
        const dark = darkFromInstants(xs, 50, 250, gap, null);
        const D = cellsOf(dark);
        for (let k = 50; k < 250; k++) {
          const before = xs.filter((t) => t <= k).pop();
          const after = xs.find((t) => t > k);
          const lit = before !== undefined && (after === undefined ? 250 - before <= gap : after - before <= gap);
          expect(D.has(k), `cell ${k}`).toBe(!lit);
        }
      }),
    );
  });
  it("clip keeps only the window", () => {
    expect(clip([{ start: 0, end: 10 }, { start: 20, end: 30 }], { start: 5, end: 25 })).toEqual([
      { start: 5, end: 10 },
      { start: 20, end: 25 },
    ]);
  });
});
