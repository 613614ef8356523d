import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { darkFromEvidence } from "./evidence.ts";
import type { BootFact, EvidenceFacts } from "./evidence.ts";
import { intersect, normalize, subtract, total } from "./intervals.ts";
import type { Interval } from "./intervals.ts";
import { darkFromGaps } from "./reader.ts";

const [FROM, TO] = [200, 800];
const H = 10;
const GAP = 3 * H;

/** What the reader gets from InfluxDB for these true edge runs (heartbeat at start and every H; a boot at each start). */
function factsOf(runs: readonly Interval[], prevAlive: (i: number) => number | null): EvidenceFacts {
  const beats = runs.flatMap((r) => Array.from({ length: Math.ceil((r.end - r.start) / H) }, (_, k) => r.start + k * H)).filter((t) => t >= FROM - GAP && t < TO + GAP);
  const gaps = beats.slice(1).flatMap((t, i) => (t - (beats[i] as number) > GAP ? [{ start: beats[i] as number, end: t }] : []));
  const boots: BootFact[] = runs
    .map((r, i) => ({ ts: r.start, prevAliveTs: prevAlive(i) }))
    .filter((b) => b.ts >= FROM - GAP);
  return { first: beats[0] ?? null, last: beats.at(-1) ?? null, gaps, boots };
}

/** Sorted, disjoint runs over [0, 1000); the last one runs to 1000 (the edge is alive after the period). */
const runsArb = fc.array(fc.tuple(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 150 })), { minLength: 1, maxLength: 12 }).map((xs) => {
  const runs: Interval[] = [];
  let t = 0;
  for (const [off, on] of xs) {
    const start = t + off;
    if (start >= 990) break;
    runs.push({ start, end: Math.min(start + on, 990) });
    t = start + on;
  }
  if (runs.length === 0) runs.push({ start: 5, end: 1000 });
  (runs.at(-1) as Interval).end = 1000;
  return runs;
});

describe("darkFromEvidence (heartbeat gaps + boot events)", () => {
  it("without boot events it is exactly darkFromGaps (the heartbeat-only reading)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { maxLength: 50 }), (raw) => {
        const xs = [...raw].sort((a, b) => a - b).filter((t) => t >= FROM - GAP && t < TO + GAP);
        const gaps = xs.slice(1).flatMap((t, i) => (t - (xs[i] as number) > GAP ? [{ start: xs[i] as number, end: t }] : []));
        const f = { first: xs[0] ?? null, last: xs.at(-1) ?? null, gaps };
        expect(darkFromEvidence({ ...f, boots: [] }, FROM, TO, GAP)).toEqual(darkFromGaps(f, FROM, TO, GAP));
      }),
      { numRuns: 400 },
    );
  });

  it("with every previous run's last mark known, dark = exactly the time the edge was not running", () => {
    fc.assert(
      fc.property(runsArb, (runs) => {
        const f = factsOf(runs, (i) => (i === 0 ? null : (runs[i - 1] as Interval).end));
        const truth = intersect(subtract([{ start: 0, end: 1000 }], runs), [{ start: FROM, end: TO }]);
        expect(darkFromEvidence(f, FROM, TO, GAP)).toEqual(truth);
      }),
      { numRuns: 600 },
    );
  });

  it("marks up to M before the stop: each dark start at most M early; unknown marks: at most one heartbeat early", () => {
    fc.assert(
      fc.property(runsArb, fc.integer({ min: 0, max: 2 }), fc.boolean(), (runs, M, unknown) => {
        const f = factsOf(runs, (i) => (i === 0 || unknown ? null : Math.max((runs[i - 1] as Interval).start, (runs[i - 1] as Interval).end - M)));
        const truth = intersect(subtract([{ start: 0, end: 1000 }], runs), [{ start: FROM, end: TO }]);
        const got = darkFromEvidence(f, FROM, TO, GAP);
        // Off periods that touch the period (each may be seen up to M or one heartbeat early).
        const stops = runs.filter((r, i) => i + 1 < runs.length && r.end - H < TO && (runs[i + 1] as Interval).start > FROM).length;
        // With marks, never less dark than the truth (evidence is never invented); without, a restart
        // shorter than the heartbeat threshold can go unseen.
        expect(total(subtract(truth, got))).toBeLessThanOrEqual(unknown ? stops * GAP : 0);
        expect(total(subtract(got, truth))).toBeLessThanOrEqual(stops * (unknown ? H : M));
      }),
      { numRuns: 600 },
    );
  });

  it("examples: a SIGKILL between heartbeats, a quick restart, a dark edge across the period end, a stale mark", () => {
    // Heartbeats every 10 s; killed at 1004.7 (last mark 1004), back at 1050.
    const kill = { first: 900, last: 1200, gaps: [{ start: 1000, end: 1050 }], boots: [{ ts: 1050, prevAliveTs: 1004 }] };
    expect(darkFromEvidence(kill, 0, 2000, 30)).toEqual([
      { start: 0, end: 900 },
      { start: 1004, end: 1050 },
      { start: 1200, end: 2000 },
    ]);
    // Marker unknown (first start after an upgrade): from the last heartbeat, as before.
    expect(darkFromEvidence({ ...kill, boots: [{ ts: 1050, prevAliveTs: null }] }, 900, 1200, 30)).toEqual([{ start: 1000, end: 1050 }]);
    // A 6 s restart, no heartbeat gap: still dark for the 6 s.
    expect(darkFromEvidence({ first: 900, last: 1200, gaps: [], boots: [{ ts: 1010, prevAliveTs: 1004 }] }, 900, 1200, 30)).toEqual([{ start: 1004, end: 1010 }]);
    // Dark at the end of the period, back after it: the mark says when, not "the last heartbeat + nothing".
    expect(darkFromEvidence({ first: 900, last: 1190, gaps: [], boots: [{ ts: 5000, prevAliveTs: 1195 }] }, 900, 1200, 30)).toEqual([{ start: 1195, end: 1200 }]);
    // ... and the heartbeat-only reading would not see it at all (less than maxGap before the end).
    expect(darkFromGaps({ first: 900, last: 1190, gaps: [] }, 900, 1200, 30)).toEqual([]);
    // A stale mark older than the last heartbeat before a gap: the heartbeat is evidence, the gap starts there.
    expect(darkFromEvidence({ ...kill, boots: [{ ts: 1050, prevAliveTs: 700 }] }, 900, 1200, 30)).toEqual([{ start: 1000, end: 1050 }]);
    // No heartbeats at all: dark throughout.
    expect(darkFromEvidence({ first: null, last: null, gaps: [], boots: [] }, 0, 100, 30)).toEqual([{ start: 0, end: 100 }]);
    expect(normalize(darkFromEvidence(kill, 1100, 1100, 30))).toEqual([]);
  });
});
