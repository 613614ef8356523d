import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createCsvParser } from "./csv.ts";
import type { CsvRecord } from "./csv.ts";

const parseAll = (chunks: string[], max?: number): CsvRecord[] => {
  const p = createCsvParser(max ? { maxRecordChars: max } : {});
  return [...chunks.flatMap((c) => p.push(c)), ...p.end()];
};

describe("csv parser", () => {
  it("parses quotes, escaped quotes, CRLF and newlines inside quotes", () => {
    const text = 'id,name\r\nm1,"Ali, ""the"" great"\nm2,"two\nlines"\n\nm3,';
    expect(parseAll([text])).toEqual([
      { line: 1, fields: ["id", "name"] },
      { line: 2, fields: ["m1", 'Ali, "the" great'] },
      { line: 3, fields: ["m2", "two\nlines"] },
      { line: 6, fields: ["m3", ""] },
    ]);
  });

  it("splitting the input anywhere gives the same records", () => {
    const text = 'a,"b""c",d\r\n"x\r\ny",,z\n1,2,3';
    const whole = parseAll([text]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 6 }), (cuts) => {
        const pts = [0, ...[...cuts].sort((a, b) => a - b), text.length];
        const chunks = pts.slice(1).map((p, i) => text.slice(pts[i], p));
        expect(parseAll(chunks)).toEqual(whole);
      }),
    );
  });

  it("an over-long record is an error, bounded, and parsing continues", () => {
    const r = parseAll(["ok,1\n", "x".repeat(5000), "y".repeat(5000), "\nok,2\n"], 100);
    expect(r).toEqual([{ line: 1, fields: ["ok", "1"] }, { line: 2, error: "record longer than 100 characters" }, { line: 3, fields: ["ok", "2"] }]);
  });

  it("unterminated quote at the end is reported, never thrown", () => {
    expect(parseAll(['a,"b'])).toEqual([{ line: 1, error: "unterminated quoted field at end of input" }]);
    fc.assert(fc.property(fc.string(), (s) => void parseAll([s])));
  });
});
