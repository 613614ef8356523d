/**
 * Seeded PRNG (mulberry32, public domain, Tommy Ettinger): tiny, fast and good
 * enough for scenario generation. Not for anything security-related. The same
 * seed gives the same sequence on every platform (pure 32-bit integer math).
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Exponential with the given mean (inter-arrival times of a Poisson process). */
  exp(mean: number): number;
  /** Index chosen with probability proportional to `weights`. */
  weighted(weights: readonly number[]): number;
  /** An independent generator derived from this one (for sub-streams). */
  fork(): Rng;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError("pick from an empty list");
      return items[Math.floor(next() * items.length)] as T;
    },
    exp: (mean) => -mean * Math.log(1 - next()),
    weighted(weights) {
      const total = weights.reduce((s, w) => s + Math.max(0, w), 0);
      if (total <= 0) throw new RangeError("weights must have a positive sum");
      let r = next() * total;
      for (let i = 0; i < weights.length; i++) {
        r -= Math.max(0, weights[i] as number);
        if (r < 0) return i;
      }
      return weights.length - 1;
    },
    fork: () => createRng(Math.floor(next() * 4294967296)),
  };
  return rng;
}
