/**
 * Latency histogram with ~2 % relative buckets (log scale from 0.01 ms to
 * ~10 min), so a fleet can record one sample per acked event for hours in a
 * few KB and still answer p50/p99. Pure, no I/O.
 */
const BASE = 1.02;
const MIN_MS = 0.01;
const BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / Math.log(BASE)) + 2;

export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface Histogram {
  record(ms: number, times?: number): void;
  quantile(q: number): number | null;
  summary(): LatencySummary;
  reset(): void;
}

export function createHistogram(): Histogram {
  let counts = new Float64Array(BUCKETS);
  let total = 0;
  let max = -Infinity;
  const index = (ms: number): number => {
    if (!(ms > MIN_MS)) return 0;
    return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms / MIN_MS) / Math.log(BASE)));
  };
  // Upper edge of a bucket: a quantile is reported as at most ~2 % above the truth.
  const upper = (i: number): number => (i === 0 ? MIN_MS : MIN_MS * BASE ** i);
  const h: Histogram = {
    record(ms, times = 1) {
      if (!Number.isFinite(ms) || times <= 0) return;
      counts[index(ms)] = (counts[index(ms)] ?? 0) + times;
      total += times;
      if (ms > max) max = ms;
    },
    quantile(q) {
      if (total === 0) return null;
      const want = Math.max(1, Math.ceil(q * total));
      let seen = 0;
      for (let i = 0; i < BUCKETS; i++) {
        seen += counts[i] ?? 0;
        if (seen >= want) return Math.min(upper(i), max);
      }
      return max;
    },
    summary() {
      const r = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
      return { count: total, p50: r(h.quantile(0.5)), p90: r(h.quantile(0.9)), p99: r(h.quantile(0.99)), max: total ? r(max) : null };
    },
    reset() {
      counts = new Float64Array(BUCKETS);
      total = 0;
      max = -Infinity;
    },
  };
  return h;
}
