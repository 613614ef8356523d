/** Property tests (fast-check): the door-contact line path (bytes → LineFramer → decodeContactLine) never throws. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LineFramer, lineText } from "../devices/wiegand/line-framer.ts";
import { decodeContactLine, encodeContactLine } from "./contact-line.ts";

describe("door-contact line decoder properties", () => {
  it("never throws on any string, and only C<n>:<0|1> decodes", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")), fc.string({ maxLength: 40 }), fc.tuple(fc.nat(999), fc.nat(9), fc.boolean()).map(([n, l, full]) => `C${n}:${full ? l : ""}`)), fc.boolean(), (line, invert) => {
        const r = decodeContactLine(line, { invert });
        return r.ok ? /^C\d{1,2}:[01]$/.test(line) && r.open === (line.endsWith("1") !== invert) : r.code === "FRAME_FORMAT";
      }),
      { numRuns: 1000 },
    );
  });

  it("arbitrary bytes through the framer and decoder never throw; every real line between them still decodes", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.tuple(fc.integer({ min: 0, max: 99 }), fc.boolean())), { maxLength: 30 }), (parts) => {
        const framer = new LineFramer({ maxLine: 64 });
        const want: string[] = [];
        const got: string[] = [];
        for (const p of parts) {
          // a real line is sent after a terminator, as the bridge does after a reset (CR LF ends any garbage)
          const bytes = p instanceof Uint8Array ? p : Buffer.from(`\r\n${encodeContactLine(p[0], p[1])}\r\n`);
          if (!(p instanceof Uint8Array)) want.push(`${p[0]}:${p[1]}`);
          for (const f of framer.push(bytes)) {
            if (f.kind !== "frame") continue;
            const r = decodeContactLine(lineText(f.bytes));
            if (r.ok) got.push(`${r.input}:${r.open}`);
          }
          expect(framer.buffered).toBeLessThanOrEqual(64);
        }
        // garbage can itself form a valid line ("C1:0" in random bytes is possible), so: every real line is there, in order
        let i = 0;
        for (const g of got) if (g === want[i]) i++;
        expect(i).toBe(want.length);
      }),
      { numRuns: 500 },
    );
  });
});
