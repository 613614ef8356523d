import type { SliceFacts } from "./timelines.ts";
import { emptySlice, pktDayStart } from "./timelines.ts";
import type { Interval } from "./intervals.ts";

/**
 * Closed PKT days' SLA facts per center, in memory (timelines.ts SliceFacts:
 * power and uplink entries, heartbeat first/last/gaps, boots), so a
 * month-to-date league table reads InfluxDB only for the running day, the
 * edges of the month and the state before it (the network page asks for it on
 * every load; 250 centers at 30 s heartbeats took ~49 s uncached).
 *
 * Late data: the ingest calls `onStored` with every event it has written
 * (after InfluxDB acknowledged the write, so a re-read sees it); an event of a
 * kind the SLA reads drops its center's entry for the day of its time, and the
 * next build reads that center-day again. A read that was in flight when the
 * invalidation came is used for that build but not remembered (a generation
 * per center-day), so a build can never cache what it may have read before the
 * late event was visible.
 *
 * Only data that comes through this process's ingest invalidates: with several
 * server processes sharing the uplinks, or writes straight into InfluxDB, the
 * server must not use a cache (server.ts passes none behind a shared
 * subscription).
 */
export interface SlaCacheStats {
  days: number;
  /** Center-days served from memory / read from InfluxDB. */
  hits: number;
  misses: number;
  invalidations: number;
}

export interface SlaCache {
  /**
   * The facts of a closed day for `centers` ("all": every center with data that day), from memory where
   * known, else through `read` (called with only the centers not known) and remembered. `variant` keys
   * what the facts depend on besides the data (the heartbeat gap threshold).
   */
  day(
    centers: readonly string[] | "all",
    day: Interval,
    read: (centers: readonly string[] | "all") => Promise<Map<string, SliceFacts>>,
    variant?: string,
  ): Promise<Map<string, SliceFacts>>;
  /** Events written to InfluxDB by the ingest: late data for closed days drops those center-days. */
  onStored(events: ReadonlyArray<{ centerId: string; ts: number; type: string }>): void;
  invalidate(centerId: string, ts: number): void;
  stats(): SlaCacheStats;
  clear(): void;
}

/** Event kinds the SLA timelines are built from (timelines.ts readSlice). */
const SLA_KINDS = new Set(["power", "uplink", "heartbeat", "boot"]);

interface Entry {
  /** Read for "all" once: a center missing from `facts` (and not stale) had no data that day. */
  complete: boolean;
  facts: Map<string, SliceFacts>;
  stale: Set<string>;
}

interface DaySlot {
  variants: Map<string, Entry>;
  /** Bumped by every invalidation of the center on this day. */
  gen: Map<string, number>;
}

export function createSlaCache(opts: { maxDays?: number } = {}): SlaCache {
  const maxDays = opts.maxDays ?? 400;
  const days = new Map<number, DaySlot>();
  const st: SlaCacheStats = { days: 0, hits: 0, misses: 0, invalidations: 0 };
  const slot = (start: number): DaySlot => {
    let s = days.get(start);
    if (!s) {
      days.set(start, (s = { variants: new Map(), gen: new Map() }));
      // Oldest day first out (Map keeps insertion order); a month is 31 slots.
      while (days.size > maxDays) days.delete(days.keys().next().value as number);
    }
    return s;
  };
  const invalidate = (centerId: string, ts: number) => {
    const s = days.get(pktDayStart(ts));
    if (!s) return;
    st.invalidations++;
    s.gen.set(centerId, (s.gen.get(centerId) ?? 0) + 1);
    for (const e of s.variants.values()) {
      e.facts.delete(centerId);
      e.stale.add(centerId);
    }
  };
  return {
    async day(centers, day, read, variant = "") {
      const s = slot(day.start);
      let e = s.variants.get(variant);
      if (!e) s.variants.set(variant, (e = { complete: false, facts: new Map(), stale: new Set() }));
      const entry = e;
      const known = (c: string) => !entry.stale.has(c) && (entry.facts.has(c) || entry.complete);
      const need: readonly string[] | "all" = centers === "all" ? (entry.complete ? [...entry.stale] : "all") : centers.filter((c) => !known(c));
      const fresh = new Map<string, SliceFacts>();
      if (need === "all" || need.length > 0) {
        const gens = new Map(s.gen);
        const got = await read(need);
        const asked = need === "all" ? null : new Set(need);
        for (const [c, f] of got) fresh.set(c, f);
        // Remember what no invalidation overtook; centers asked for without data are "known empty".
        const keep = (c: string) => (s.gen.get(c) ?? 0) === (gens.get(c) ?? 0);
        for (const [c, f] of got) if (keep(c)) entry.facts.set(c, f);
        if (asked) for (const c of asked) if (keep(c) && !got.has(c)) entry.facts.set(c, emptySlice());
        for (const c of asked ?? new Set([...entry.stale, ...got.keys()])) if (keep(c)) entry.stale.delete(c);
        if (need === "all") entry.complete = true;
        st.misses += asked ? asked.size : Math.max(1, got.size);
      }
      const out = new Map<string, SliceFacts>();
      const ids = centers === "all" ? new Set([...entry.facts.keys(), ...fresh.keys()]) : centers;
      for (const c of ids) {
        const f = fresh.get(c) ?? entry.facts.get(c);
        if (!fresh.has(c) && f) st.hits++;
        if (f && (f.first !== null || f.power.length || f.uplink.length || f.boots.length)) out.set(c, f);
      }
      st.days = days.size;
      return out;
    },
    onStored(events) {
      const seen = new Set<string>();
      for (const ev of events) {
        // The steady stream is for the running day, never cached: two lookups and out.
        if (!SLA_KINDS.has(ev.type) || !days.has(pktDayStart(ev.ts))) continue;
        const k = `${ev.centerId}\u0000${pktDayStart(ev.ts)}`;
        if (seen.has(k)) continue;
        seen.add(k);
        invalidate(ev.centerId, ev.ts);
      }
    },
    invalidate,
    stats: () => ({ ...st, days: days.size }),
    clear() {
      days.clear();
    },
  };
}
