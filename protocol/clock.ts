/**
 * Time is injected everywhere (style guide: no ambient globals), so tests can run
 * an edge whose wall clock is wrong (no RTC after a power cut) or frozen.
 */
export interface Clock {
  /** Wall-clock epoch milliseconds. May be wrong until synced. */
  now(): number;
  /** Monotonic milliseconds since an arbitrary origin (this process). Never goes back. */
  mono(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  mono: () => performance.now(),
};

/** Minimal logger shape; pino's Logger satisfies it. Injected, never imported as a singleton. */
export interface Logger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
  isLevelEnabled?(level: string): boolean;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
