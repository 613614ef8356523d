/**
 * Timed expectation for tests and launchers: poll `fn` until it returns a truthy
 * value, or reject after the deadline. Never "sleep, then assert" (style guide
 * lesson 7). Like zwave-js `TimedExpectation`, the Error is created at call time,
 * so its stack points at the caller, not at a timer callback.
 */
export interface WaitForOptions {
  timeoutMs: number;
  /** Poll interval (default 50 ms). */
  intervalMs?: number;
  /** What we are waiting for; appears in the error message. */
  what: string;
}

const PENDING = Symbol("pending");

function describe(v: unknown): string {
  if (v instanceof Error) return `error: ${v.message}`;
  try {
    const s = typeof v === "string" ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
    return s.length > 500 ? `${s.slice(0, 500)}…` : s;
  } catch {
    return String(v);
  }
}

export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitForOptions): Promise<NonNullable<T>> {
  const err = new Error(`waitFor: ${opts.what}`);
  Error.captureStackTrace?.(err, waitFor);
  const interval = opts.intervalMs ?? 50;
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown = undefined;
  let attempts = 0;
  for (;;) {
    attempts++;
    // Each attempt is raced against the deadline: an fn() whose promise never
    // settles (a hung socket, an event that never fires) must not hang waitFor.
    const remaining = Math.max(0, deadline - Date.now());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<typeof PENDING>((r) => {
      timer = setTimeout(r, remaining, PENDING);
    });
    try {
      const v = await Promise.race([Promise.resolve().then(fn), expired]);
      if (v === PENDING) {
        last = new Error(`attempt ${attempts} still pending at the deadline`);
      } else if (v) {
        return v as NonNullable<T>;
      } else {
        last = v;
      }
    } catch (e) {
      last = e;
    } finally {
      clearTimeout(timer);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      err.message = `Timed out after ${opts.timeoutMs} ms (${attempts} attempts) waiting for ${opts.what}; last ${
        last instanceof Error ? "" : "value: "
      }${describe(last)}`;
      if (last instanceof Error) (err as Error & { cause?: unknown }).cause = last;
      throw err;
    }
    await new Promise((r) => setTimeout(r, Math.min(interval, left)));
  }
}
