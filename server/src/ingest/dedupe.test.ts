import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSeqWindow } from "./dedupe.ts";

describe("createSeqWindow", () => {
  it("remembers exactly what was added (property, against a Set)", () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 20 }), { maxLength: 20 }), (batches) => {
        const w = createSeqWindow({ maxRanges: 10_000 });
        const ref = new Set<number>();
        for (const b of batches) {
          w.add("c/boot", b);
          for (const s of b) ref.add(s);
        }
        for (let s = 0; s <= 301; s++) expect(w.has("c/boot", s)).toBe(ref.has(s));
      }),
    );
  });

  it("streams are separate; bounded ranges forget the oldest; bounded streams evict least recent", () => {
    const w = createSeqWindow({ maxRanges: 2, maxStreams: 2 });
    w.add("a/b1", [1, 2, 3]);
    expect(w.has("a/b2", 2)).toBe(false);
    w.add("a/b1", [10, 20]); // 3 ranges → oldest [1,3] dropped
    expect(w.has("a/b1", 2)).toBe(false);
    expect(w.has("a/b1", 10) && w.has("a/b1", 20)).toBe(true);
    w.add("b/x", [1]);
    w.add("c/x", [1]); // evicts a/b1
    expect(w.size()).toBe(2);
    expect(w.has("a/b1", 10)).toBe(false);
    expect(w.has("c/x", 1)).toBe(true);
  });
});
