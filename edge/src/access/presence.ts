/**
 * Who is inside, as far as this edge's doors know: a granted "in" marks the
 * member in, a granted "out" marks them out. Feeds the capacity rule and soft
 * anti-passback (decide.ts). People who leave without badging out (tailgating,
 * a door with no out-reader) would otherwise count for ever, so an entry
 * expires `ttlMs` after the "in" (default 16 h, longer than a night shift).
 * In memory only: after a restart everyone counts as out, which can only make
 * capacity more permissive and never trips anti-passback falsely (DA-7).
 * Times are monotonic (clock.mono()), so a wall-clock sync does not expire anyone.
 */
export interface Presence {
  isIn(memberId: string, mono: number): boolean;
  occupancy(mono: number): number;
  grant(memberId: string, direction: "in" | "out", mono: number): void;
}

export function createPresence(opts: { ttlMs?: number } = {}): Presence {
  const ttl = opts.ttlMs ?? 16 * 3600_000;
  // Insertion order = order of "in" (re-inserted on each in), so expiry pops from the front.
  const inside = new Map<string, number>();
  const expire = (mono: number) => {
    for (const [id, at] of inside) {
      if (mono - at < ttl) break;
      inside.delete(id);
    }
  };
  return {
    isIn(id, mono) {
      expire(mono);
      return inside.has(id);
    },
    occupancy(mono) {
      expire(mono);
      return inside.size;
    },
    grant(id, direction, mono) {
      inside.delete(id);
      if (direction === "in") inside.set(id, mono);
    },
  };
}
