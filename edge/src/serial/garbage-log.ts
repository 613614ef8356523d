import type { Logger } from "../../../protocol/clock.ts";

/**
 * Rate-limited warning for device garbage (noise, wrong baud rate, frames that do not decode).
 * Every rejected run is still logged at debug by its owner; this adds a `warn` an operator sees at
 * the default level, with exact counts, at most once per `intervalMs` (default 60 s) per device:
 * the first garbage after a quiet period is reported at once, what follows within the interval is
 * summed and reported when the interval ends (a timer, so a burst that stops is still reported).
 * A wrong-baud reader or a loose cable produces garbage continuously; one line a minute says so
 * without flooding an SD card with logs.
 */
export interface GarbageLog {
  /** Count `bytes` discarded for `reason` (e.g. "noise", "format", "FRAME_CHECKSUM"). */
  add(reason: string, bytes: number): void;
  /** Report what is pending now and stop the timer. */
  close(): void;
}

export function createGarbageLog(o: {
  logger: Logger;
  what: string;
  intervalMs?: number;
  /** Monotonic ms (injected for tests). */
  now?: () => number;
}): GarbageLog {
  const interval = o.intervalMs ?? 60_000;
  const now = o.now ?? (() => performance.now());
  let lastWarn = -Infinity;
  let runs = 0;
  let bytes = 0;
  let reasons: Record<string, number> = {};
  let totalRuns = 0;
  let totalBytes = 0;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (runs === 0) return;
    lastWarn = now();
    o.logger.warn({ runs, bytes, reasons, totalRuns, totalBytes, perS: interval / 1000 }, `${o.what}: garbage from the device (wrong baud rate, noise or a loose cable?)`);
    runs = 0;
    bytes = 0;
    reasons = {};
  };

  return {
    add(reason, n) {
      if (closed) return;
      runs++;
      bytes += n;
      totalRuns++;
      totalBytes += n;
      reasons[reason] = (reasons[reason] ?? 0) + 1;
      const since = now() - lastWarn;
      if (since >= interval) flush();
      else if (!timer) {
        timer = setTimeout(flush, interval - since);
        timer.unref?.();
      }
    },
    close() {
      flush();
      closed = true;
    },
  };
}
