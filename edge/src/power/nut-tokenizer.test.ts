/** Property tests (fast-check) for the NUT reply tokenizer (§5.1): never throws; quoting round-trips. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nutQuote, tokenizeNutLine } from "./nut-client.ts";

describe("tokenizeNutLine properties", () => {
  it("never throws on arbitrary input (unbalanced quotes, trailing backslash, control bytes)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString("latin1")), fc.string({ maxLength: 60 }), fc.array(fc.constantFrom(" ", '"', "\\", "a", "OL"), { maxLength: 40 }).map((a) => a.join(""))), (line) => {
        const toks = tokenizeNutLine(line);
        return Array.isArray(toks) && toks.length <= line.length && toks.every((t) => typeof t === "string");
      }),
      { numRuns: 2000 },
    );
  });

  it("quoted tokens round-trip, whatever they contain", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 10 }), (tokens) => {
        expect(tokenizeNutLine(tokens.map(nutQuote).join(" "))).toEqual(tokens);
      }),
      { numRuns: 1000 },
    );
  });

  it("a VAR reply tokenizes as NUT sends it", () => {
    expect(tokenizeNutLine('VAR seat-ups ups.status "OB DISCHRG"')).toEqual(["VAR", "seat-ups", "ups.status", "OB DISCHRG"]);
  });
});
