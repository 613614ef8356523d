import type { Clock } from "../../../protocol/clock.ts";

/**
 * Wall clock = base clock + offset. An edge without RTC boots with a wrong wall
 * clock (reliability matrix §0.7, DA-6); until something trusted sets it, every
 * event carries synced=false.
 *
 * Rule (kept simple on purpose): if the box's own clock is trusted (NTP/RTC,
 * config `trustedClock: true`) we never adjust it. Otherwise each `TimeReply`
 * sets offset so that now() = serverTime + rtt/2 at the moment the reply
 * arrived (Cristian's algorithm), and synced becomes true. `mono()` is never
 * adjusted.
 */
export interface SettableClock extends Clock {
  synced(): boolean;
  offsetMs(): number;
  /** Adopt server time: `serverTime` was read at the server ~rtt/2 ago. */
  adopt(serverTime: number, rttMs: number): void;
}

export function createSettableClock(base: Clock, opts: { trusted: boolean }): SettableClock {
  let offset = 0;
  let synced = opts.trusted;
  return {
    now: () => base.now() + offset,
    mono: () => base.mono(),
    synced: () => synced,
    offsetMs: () => offset,
    adopt(serverTime, rttMs) {
      if (opts.trusted) return;
      offset = serverTime + rttMs / 2 - base.now();
      offset = Math.round(offset);
      synced = true;
    },
  };
}
