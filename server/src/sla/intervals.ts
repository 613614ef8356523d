/**
 * Interval algebra over half-open millisecond intervals `[start, end)` and
 * piecewise-constant state timelines. Pure (no I/O, no clock): the SLA and
 * occupancy computations are built from these few operations so that their
 * properties (availability in [0,1], up + down + unknown = operating time,
 * additivity over a split period) can be tested with fast-check.
 *
 * Every function returns a *normalized* list: sorted, non-overlapping, no
 * empty intervals, adjacent intervals merged.
 */
export interface Interval {
  start: number;
  end: number;
}
export type Segment<S> = Interval & { state: S };
export interface Change<S> {
  t: number;
  state: S;
}

export function normalize(list: readonly Interval[]): Interval[] {
  const xs = list.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Interval[] = [];
  for (const i of xs) {
    const last = out[out.length - 1];
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push({ start: i.start, end: i.end });
  }
  return out;
}

export const union = (a: readonly Interval[], b: readonly Interval[]): Interval[] => normalize([...a, ...b]);

export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const x = normalize(a);
  const y = normalize(b);
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const p = x[i] as Interval;
    const q = y[j] as Interval;
    const s = Math.max(p.start, q.start);
    const e = Math.min(p.end, q.end);
    if (e > s) out.push({ start: s, end: e });
    if (p.end < q.end) i++;
    else j++;
  }
  return normalize(out);
}

export function subtract(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const y = normalize(b);
  const out: Interval[] = [];
  for (const p of normalize(a)) {
    let cur = p.start;
    for (const q of y) {
      if (q.end <= cur) continue;
      if (q.start >= p.end) break;
      if (q.start > cur) out.push({ start: cur, end: q.start });
      cur = Math.max(cur, q.end);
      if (cur >= p.end) break;
    }
    if (cur < p.end) out.push({ start: cur, end: p.end });
  }
  return normalize(out);
}

export const total = (a: readonly Interval[]): number => normalize(a).reduce((s, i) => s + (i.end - i.start), 0);

export const clip = (a: readonly Interval[], w: Interval): Interval[] => intersect(a, [w]);

/**
 * Piecewise-constant timeline over `[from, to)` from a list of state changes:
 * the state before the first change is `initial`; changes at or before `from`
 * only move the initial state; changes at or after `to` are ignored. Changes
 * must be sorted by time; equal times keep the last one (it was recorded later:
 * the outbox `seq` orders events within one millisecond).
 */
export function stepTimeline<S>(changes: readonly Change<S>[], from: number, to: number, initial: S): Segment<S>[] {
  const out: Segment<S>[] = [];
  let state = initial;
  let cur = from;
  for (const c of changes) {
    if (c.t <= from) {
      state = c.state;
      continue;
    }
    if (c.t >= to) break;
    if (c.t > cur) out.push({ start: cur, end: c.t, state });
    cur = Math.max(cur, c.t);
    state = c.state;
  }
  if (to > cur) out.push({ start: cur, end: to, state });
  return out;
}

export function where<S>(segs: readonly Segment<S>[], pred: (s: S) => boolean): Interval[] {
  return normalize(segs.filter((s) => pred(s.state)));
}

/** Cut a segment list to intervals (keeps states, drops what falls outside). */
export function restrict<S>(segs: readonly Segment<S>[], within: readonly Interval[]): Segment<S>[] {
  const w = normalize(within);
  const out: Segment<S>[] = [];
  let j = 0;
  for (const s of segs) {
    while (j < w.length && (w[j] as Interval).end <= s.start) j++;
    for (let k = j; k < w.length; k++) {
      const q = w[k] as Interval;
      if (q.start >= s.end) break;
      const a = Math.max(s.start, q.start);
      const b = Math.min(s.end, q.end);
      if (b > a) out.push({ start: a, end: b, state: s.state });
    }
  }
  return out;
}

/** Merge touching segments whose states are equal under `key`. */
export function mergeSegments<S>(segs: readonly Segment<S>[], key: (s: S) => string): Segment<S>[] {
  const out: Segment<S>[] = [];
  for (const s of segs) {
    const last = out[out.length - 1];
    if (last && last.end === s.start && key(last.state) === key(s.state)) last.end = s.end;
    else out.push({ ...s });
  }
  return out;
}

/**
 * "No evidence" intervals from evidence instants: the time between two
 * consecutive instants is covered when they are at most `maxGapMs` apart;
 * otherwise the gap is dark from the earlier instant to the later one. The
 * edges of the window are dark unless an instant lies within `maxGapMs` of them
 * (`priorInstant`: the last evidence before `from`, if any; an instant at or
 * after `to` may be passed to close the last gap).
 */
export function darkFromInstants(instants: readonly number[], from: number, to: number, maxGapMs: number, priorInstant?: number | null): Interval[] {
  const out: Interval[] = [];
  let last = priorInstant ?? null;
  const gap = (a: number | null, b: number) => {
    if (a === null) out.push({ start: from, end: b });
    else if (b - a > maxGapMs) out.push({ start: Math.max(a, from), end: b });
  };
  for (const t of instants) {
    if (t < from) {
      last = t;
      continue;
    }
    gap(last, t);
    last = t;
    // The first instant at or after `to` still tells whether the gap before it was dark.
    if (t >= to) return clip(out, { start: from, end: to });
  }
  gap(last, to);
  return clip(out, { start: from, end: to });
}
