/**
 * Recently written sequence numbers per stream, as sorted inclusive ranges.
 * A stream is `<center>/<bootId>`: an edge's outbox assigns seqs that survive
 * restarts and a replay re-sends the event with its ORIGINAL bootId, so a
 * replay hits the same stream; a wiped outbox restarts seqs under a new boot
 * id and is (correctly) not mistaken for a replay.
 *
 * Bounded: at most `maxStreams` streams (least recently written evicted), at
 * most `maxRanges` ranges per stream (oldest dropped). Contiguous seqs — the
 * normal case — cost one range. Forgetting is safe: a forgotten seq is simply
 * written again, and the point key makes that an overwrite (protocol/influx.ts).
 */
export interface SeqWindow {
  has(stream: string, seq: number): boolean;
  add(stream: string, seqs: readonly number[]): void;
  /** Streams held (tests, metrics). */
  size(): number;
}

type Range = [number, number];

export function createSeqWindow(opts: { maxStreams?: number; maxRanges?: number } = {}): SeqWindow {
  const maxStreams = opts.maxStreams ?? 20_000;
  const maxRanges = opts.maxRanges ?? 64;
  const streams = new Map<string, Range[]>();

  /** Index of the first range whose end >= seq. */
  function lowerBound(rs: Range[], seq: number): number {
    let lo = 0;
    let hi = rs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((rs[mid] as Range)[1] < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function insert(rs: Range[], a: number, b: number): void {
    const i = lowerBound(rs, a - 1);
    // Merge every range overlapping or adjacent to [a, b].
    let lo = a;
    let hi = b;
    let j = i;
    while (j < rs.length && (rs[j] as Range)[0] <= b + 1) {
      lo = Math.min(lo, (rs[j] as Range)[0]);
      hi = Math.max(hi, (rs[j] as Range)[1]);
      j++;
    }
    rs.splice(i, j - i, [lo, hi]);
    if (rs.length > maxRanges) rs.splice(0, rs.length - maxRanges);
  }

  return {
    has(stream, seq) {
      const rs = streams.get(stream);
      if (!rs) return false;
      const r = rs[lowerBound(rs, seq)];
      return r !== undefined && r[0] <= seq;
    },
    add(stream, seqs) {
      if (seqs.length === 0) return;
      let rs = streams.get(stream);
      if (rs) streams.delete(stream); // re-insert: Map order = recency
      else rs = [];
      streams.set(stream, rs);
      const sorted = [...seqs].sort((x, y) => x - y);
      let a = sorted[0] as number;
      let b = a;
      for (let k = 1; k <= sorted.length; k++) {
        const s = sorted[k];
        if (s !== undefined && s <= b + 1) {
          b = Math.max(b, s);
          continue;
        }
        insert(rs, a, b);
        if (s !== undefined) a = b = s;
      }
      while (streams.size > maxStreams) streams.delete(streams.keys().next().value as string);
    },
    size: () => streams.size,
  };
}
