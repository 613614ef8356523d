/**
 * Daily automatic check-out (issue 5): members rarely badge out, so at a
 * configurable local time (default 04:00 Asia/Karachi, after the last night
 * shift and before the first morning one) everyone still "in" is checked out.
 * Each center may set its own time (CenterConfig.autoCheckoutAt); the server's
 * `live.checkoutAt` is the default for centers without one.
 * Time-zone math uses Intl only (Pakistan has no DST today, but the code does
 * not rely on that).
 */

/** Offset (ms) of `timeZone` from UTC at instant `t`: local wall time − UTC. */
export function tzOffsetMs(t: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(t));
  const get = (k: string) => Number(parts.find((p) => p.type === k)?.value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return asUtc - Math.floor(t / 1000) * 1000;
}

/** The most recent instant ≤ now at which local time in `timeZone` was `hhmm` ("04:00"). */
export function lastCutoff(now: number, hhmm: string, timeZone: string): number {
  const [h, m] = hhmm.split(":").map(Number) as [number, number];
  const local = new Date(now + tzOffsetMs(now, timeZone));
  for (let back = 0; back <= 2; back++) {
    const wall = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() - back, h, m);
    // Two passes: the offset at the candidate instant may differ from now's (DST).
    let t = wall - tzOffsetMs(wall, timeZone);
    t = wall - tzOffsetMs(t, timeZone);
    if (t <= now) return t;
  }
  throw new Error("unreachable: no cut-off in the last two days");
}

export function nextCutoff(now: number, hhmm: string, timeZone: string): number {
  // The next one is the "last" cut-off seen from about a day later; step until it is in the future.
  let t = lastCutoff(now + 26 * 3600_000, hhmm, timeZone);
  while (t > now + 1) {
    const prev = lastCutoff(t - 1, hhmm, timeZone);
    if (prev <= now) break;
    t = prev;
  }
  return t;
}

/**
 * The automatic check-out cut-off of each center: the last instant its own
 * `autoCheckoutAt` (center config) was reached, or — for a center without
 * one — the server's `live.checkoutAt`, in `timeZone`. Evaluated when the live
 * view is read (no timer: nothing to schedule, nothing to miss after a clock
 * step) and cached per HH:MM until that time's next cut-off, so a national
 * view of thousands of centers does not redo the time-zone math per center.
 */
export function createCheckoutPolicy(o: {
  defaultAt: string;
  timeZone: string;
  now: () => number;
  /** The center's own cut-off (HH:MM), or null/undefined to use `defaultAt`. */
  centerAt?: (centerId: string) => string | null | undefined;
}): (centerId: string) => number {
  const cache = new Map<string, { last: number; next: number }>();
  return (centerId) => {
    const at = o.centerAt?.(centerId) ?? o.defaultAt;
    const now = o.now();
    const c = cache.get(at);
    if (c && now >= c.last && now < c.next) return c.last;
    const last = lastCutoff(now, at, o.timeZone);
    cache.set(at, { last, next: nextCutoff(now, at, o.timeZone) });
    return last;
  };
}
