import { normalize } from "./intervals.ts";
import type { Interval } from "./intervals.ts";

/**
 * "Edge dark" intervals (no evidence from the edge) from what InfluxDB can
 * tell cheaply: the first and last heartbeat near the period, the gaps between
 * consecutive heartbeats longer than the threshold (ELAPSED() in InfluxDB,
 * reader.ts), and the edge's `boot` events (protocol/events.ts BootEvent).
 *
 * A boot event says the edge process started at its `ts` and, from the alive
 * marker the previous run overwrote every second, when that run was last alive
 * (`prevAliveTs`, null when unknown). So a dark period that ends in a boot runs
 * from `prevAliveTs` to the boot's `ts`, exact to the mark interval, instead of
 * from the last heartbeat (up to one heartbeat interval early). A restart
 * shorter than the heartbeat threshold, invisible in the heartbeats, is dark
 * too: the boot is positive evidence the edge was not running.
 *
 * Within a heartbeat gap `[a, c]` holding boots b1..bk (a < b.ts ≤ c):
 *   dark [max(cursor, p1), b1], ..., [max(b(k-1), pk), bk], then [bk, c] only if
 *   c − bk > maxGap (the new run beats at once, so normally not);
 * where `p` is the boot's prevAliveTs (cursor = the gap start when p is unknown
 * or before the last evidence). The stretch between the last evidence and `p`
 * is covered: the marker proves the previous run was alive.
 */
export interface BootFact {
  ts: number;
  /** The previous run's last alive mark (wall ms), null when unknown. */
  prevAliveTs: number | null;
}

export interface EvidenceFacts {
  /** First / last heartbeat in `[from − maxGap, to + maxGap)`, null when none. */
  first: number | null;
  last: number | null;
  /** Consecutive heartbeats more than maxGap apart, as `[previous, next]`. */
  gaps: Interval[];
  /** Boot events with `ts >= from − maxGap`, any order (later ones: see darkFromEvidence). */
  boots: BootFact[];
}

/** Dark pieces of one gap `[a, c]` (c = Infinity: open at the period end) given the boots inside it. */
function splitGap(a: number, c: number, boots: readonly BootFact[], maxGapMs: number, trailingAlwaysDark: boolean): Interval[] {
  const out: Interval[] = [];
  let cursor = a;
  for (const b of boots) {
    const p = b.prevAliveTs;
    const start = p !== null && p >= cursor && p <= b.ts ? p : cursor;
    out.push({ start, end: b.ts });
    cursor = b.ts;
  }
  if (boots.length === 0 ? trailingAlwaysDark || c - cursor > maxGapMs : c - cursor > maxGapMs) out.push({ start: cursor, end: c });
  return out;
}

export function darkFromEvidence(f: EvidenceFacts, from: number, to: number, maxGapMs: number): Interval[] {
  // A boot well after the period whose previous run was alive past its end says nothing about it: the
  // heartbeat reading stands (the marker would contradict a real gap in the heartbeats).
  const boots = f.boots.filter((b) => b.ts < to + maxGapMs || b.prevAliveTs === null || b.prevAliveTs < to).sort((x, y) => x.ts - y.ts);
  const used = new Set<BootFact>();
  const inside = (a: number, c: number) => {
    const xs = boots.filter((b) => b.ts > a && b.ts <= c && !used.has(b));
    for (const b of xs) used.add(b);
    return xs;
  };
  const out: Interval[] = [];
  if (f.first === null || f.last === null) {
    // No heartbeat at all near the period: dark throughout, except what boots and their marks say.
    const xs = inside(-Infinity, Infinity);
    out.push(...splitGap(from, to, xs, maxGapMs, true));
  } else {
    // Before the first heartbeat (nothing seen in [from − maxGap, first)): dark from the period start.
    if (f.first > from) out.push(...splitGap(from, f.first, inside(from - 1, f.first), maxGapMs, true));
    for (const g of [...f.gaps].sort((x, y) => x.start - y.start)) out.push(...splitGap(g.start, g.end, inside(g.start, g.end), maxGapMs, true));
    // After the last heartbeat: dark when it is more than maxGap before the end, or a boot says the edge stopped.
    if (f.last < to) out.push(...splitGap(f.last, to, inside(f.last, Infinity), maxGapMs, false));
  }
  // A restart too short to leave a heartbeat gap: dark from the previous run's last mark to the boot. No gap
  // around it means a heartbeat within maxGap before it, so a stale mark cannot darken more than that.
  for (const b of boots)
    if (!used.has(b) && b.prevAliveTs !== null && b.prevAliveTs < b.ts) out.push({ start: Math.max(b.prevAliveTs, b.ts - maxGapMs), end: b.ts });
  return normalize(out.map((i) => ({ start: Math.max(i.start, from), end: Math.min(i.end, to) })));
}
