import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { darkFromInstants } from "./intervals.ts";
import { centerFilter, darkFromGaps, parseInfluxTime, uplinkDownTime } from "./reader.ts";

describe("sla reader helpers", () => {
  it("parseInfluxTime keeps the millisecond of an RFC3339 nanosecond time (the influx.ts point key)", () => {
    expect(parseInfluxTime("2026-03-01T04:00:00.123456789Z")).toBe(Date.UTC(2026, 2, 1, 4, 0, 0, 123));
    expect(parseInfluxTime("2026-03-01T04:00:00Z")).toBe(Date.UTC(2026, 2, 1, 4));
    expect(parseInfluxTime("2026-03-01T04:00:00.5Z")).toBe(Date.UTC(2026, 2, 1, 4, 0, 0, 500));
    expect(() => parseInfluxTime("yesterday")).toThrow(/unexpected time/);
  });

  it("uplinkDownTime: a close noticed within a keepalive of the last packet is placed when noticed, a timeout at the last packet", () => {
    const K = 15_000;
    expect(uplinkDownTime(100_000, 96_000, K)).toBe(100_000); // RST 4 s after the last PINGRESP: noticed at once
    expect(uplinkDownTime(100_000, 55_000, K)).toBe(55_000); // 45 s of silence: a keepalive timeout
    expect(uplinkDownTime(100_000, 85_000, K)).toBe(85_000); // exactly one keepalive: can be a timeout
    expect(uplinkDownTime(100_000, null, K)).toBe(100_000); // connect_failed carries no last contact
    expect(uplinkDownTime(100_000, 120_000, K)).toBe(100_000); // a last contact after the notice is nonsense
    expect(uplinkDownTime(100_000, 96_000, undefined)).toBe(96_000); // keepalive unknown: the last contact, as before
  });

  it("centerFilter only lets ids through (no InfluxQL injection)", () => {
    expect(centerFilter(["a-1"])).toBe(` AND "center" = 'a-1'`);
    expect(centerFilter(["a", "b"])).toBe(` AND "center" =~ /^(a|b)$/`);
    expect(centerFilter("all")).toBe("");
    expect(() => centerFilter(["x' OR 1=1"])).toThrow(/invalid center id/);
  });

  it("darkFromGaps (what InfluxDB's ELAPSED subquery yields) equals darkFromInstants on the raw heartbeats", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 400 }), { maxLength: 40 }), fc.integer({ min: 1, max: 40 }), (raw, gap) => {
        const xs = [...raw].sort((a, b) => a - b);
        const [from, to] = [100, 300];
        // The reader's window: heartbeats in [from - gap, to + gap).
        const w = xs.filter((t) => t >= from - gap && t < to + gap);
        const gaps = w.slice(1).flatMap((t, i) => (t - (w[i] as number) > gap ? [{ start: w[i] as number, end: t }] : []));
        const got = darkFromGaps({ first: w[0] ?? null, last: w[w.length - 1] ?? null, gaps }, from, to, gap);
        // Reference: every heartbeat before the window end plus the first after (closes the last gap).
        const prior = xs.filter((t) => t < from).pop() ?? null;
        const want = darkFromInstants(xs.filter((t) => t >= from && t < to + gap), from, to, gap, prior);
        expect(got).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });
});
