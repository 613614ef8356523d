/**
 * Property tests (fast-check) for the evdev wedge framer (§3.1): splitting the record stream anywhere
 * yields the same lines as one push, and arbitrary bytes never throw and stay bounded.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Frame } from "../frame.ts";
import { EvdevWedgeFramer, encodeEvdevKeys } from "./evdev.ts";

const RECORD = 24;
/** One 24-byte input_event record: type, code, value (the timestamp bytes are arbitrary). */
const record = fc
  .record({
    stamp: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    type: fc.oneof(fc.constant(1), fc.constant(0), fc.constant(4), fc.integer({ min: 0, max: 0xffff })),
    code: fc.oneof(fc.integer({ min: 2, max: 11 }), fc.constant(28), fc.constant(96), fc.integer({ min: 0, max: 0xffff })),
    value: fc.oneof(fc.constant(1), fc.constant(0), fc.constant(2), fc.integer()),
  })
  .map(({ stamp, type, code, value }) => {
    const r = new Uint8Array(RECORD);
    r.set(stamp, 0);
    const dv = new DataView(r.buffer);
    dv.setUint16(16, type, true);
    dv.setUint16(18, code, true);
    dv.setInt32(20, value, true);
    return r;
  });
// Mostly real typing (10 digits + Enter, a card) with noise records between.
const stream = fc
  .array(fc.oneof(fc.stringMatching(/^[0-9]{1,12}\n$/).map(encodeEvdevKeys), record), { maxLength: 30 })
  .map((parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  });
const cuts = (len: number) => fc.uniqueArray(fc.integer({ min: 0, max: len }), { maxLength: 40 }).map((c) => [...c].sort((a, b) => a - b));
const shape = (fs: Frame[]) => fs.map((f) => [f.kind, Buffer.from(f.bytes).toString("latin1"), f.kind === "discarded" ? f.reason : ""]);

describe("EvdevWedgeFramer properties", () => {
  it("splitting the record stream anywhere yields the same frames as one push", () => {
    fc.assert(
      fc.property(
        stream.chain((s) => fc.tuple(fc.constant(s), cuts(s.length))),
        ([bytes, at]) => {
          const whole = new EvdevWedgeFramer().push(bytes);
          const f = new EvdevWedgeFramer();
          const parts: Frame[] = [];
          let prev = 0;
          for (const c of [...at, bytes.length]) {
            parts.push(...f.push(bytes.subarray(prev, c)));
            prev = c;
          }
          expect(shape(parts)).toEqual(shape(whole));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("arbitrary bytes never throw and stay bounded; after reset a typed card is one line", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), (chunks) => {
        const f = new EvdevWedgeFramer();
        for (const c of chunks) f.push(c);
        expect(f.buffered).toBeLessThanOrEqual(RECORD - 1 + 32);
        // the framer still works afterwards: a record boundary is re-found only by reset (a torn record
        // shifts alignment, as on a real fd it cannot: reads return whole records)
        f.reset();
        expect(shape(f.push(encodeEvdevKeys("3808980205\n")))).toEqual([["frame", "3808980205", ""]]);
      }),
      { numRuns: 300 },
    );
  });
});
