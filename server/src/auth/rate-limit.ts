import type { Clock } from "../../../protocol/clock.ts";

/**
 * Login rate limiting (in memory: one server process answers a login; a
 * restart resets the counters, which only helps an attacker by one window).
 *
 * - Per (username, client IP): `pairFailMax` failures in a window refuse THAT
 *   pair (429). Keyed by the pair, not the username alone, so nobody can lock
 *   the PSEB admin out by failing five times from their own machine: the
 *   admin's own IP still gets in.
 * - Per client IP: `ipMax` attempts of any username in a window (spraying).
 * - Global slow-down: once more than `globalSlowAfter` logins failed in the
 *   window (a guess campaign from many IPs), every attempt waits for a slot:
 *   at most one login per `slowIntervalMs` in the whole process, however many
 *   run in parallel. Nobody is refused for a username; a wait that would
 *   exceed `maxDelayMs` is answered 429 "busy" with Retry-After instead of
 *   holding the connection.
 * Bounded: at most `maxKeys` keys per map, the oldest dropped first.
 */
export interface LoginCheck {
  /** > 0: refuse with 429 and this Retry-After (seconds). */
  retryAfterS: number;
  /** Wait this long before verifying the password (the global slow-down); 0 normally. */
  delayMs: number;
}

export interface LoginLimiter {
  /** Before verifying a password; counts the attempt against the IP. */
  check(ip: string, username: string): LoginCheck;
  failed(ip: string, username: string): void;
  succeeded(ip: string, username: string): void;
}

export interface LimitOptions {
  ipMax: number;
  pairFailMax: number;
  windowMs: number;
  globalSlowAfter?: number;
  slowIntervalMs?: number;
  maxDelayMs?: number;
  maxKeys?: number;
}

export const DEFAULT_LOGIN_LIMITS: LimitOptions = {
  ipMax: 30,
  pairFailMax: 5,
  windowMs: 5 * 60_000,
  globalSlowAfter: 100,
  slowIntervalMs: 250,
  maxDelayMs: 5_000,
};

interface Slot {
  start: number;
  n: number;
}

export function createLoginLimiter(clock: Clock, o: LimitOptions = DEFAULT_LOGIN_LIMITS): LoginLimiter {
  const maxKeys = o.maxKeys ?? 100_000;
  const slowAfter = o.globalSlowAfter ?? DEFAULT_LOGIN_LIMITS.globalSlowAfter ?? 100;
  const interval = o.slowIntervalMs ?? DEFAULT_LOGIN_LIMITS.slowIntervalMs ?? 250;
  const maxDelay = o.maxDelayMs ?? DEFAULT_LOGIN_LIMITS.maxDelayMs ?? 5_000;
  const ips = new Map<string, Slot>();
  const pairs = new Map<string, Slot>();
  let global: Slot = { start: clock.now(), n: 0 };
  let nextSlot = 0;
  const fresh = (s: Slot | undefined, now: number) => s !== undefined && now - s.start < o.windowMs && now >= s.start;
  const slot = (m: Map<string, Slot>, k: string): Slot => {
    const now = clock.now();
    let s = m.get(k);
    if (!fresh(s, now)) {
      m.delete(k);
      if (m.size >= maxKeys) m.delete(m.keys().next().value as string);
      s = { start: now, n: 0 };
      m.set(k, s);
    }
    return s as Slot;
  };
  const globalSlot = () => {
    const now = clock.now();
    if (!fresh(global, now)) global = { start: now, n: 0 };
    return global;
  };
  const wait = (s: Slot) => Math.max(1, Math.ceil((s.start + o.windowMs - clock.now()) / 1000));
  // NUL cannot occur in a username or an IP: the pair key is unambiguous.
  const pairKey = (ip: string, username: string) => `${username.toLowerCase()}\0${ip}`;
  return {
    check(ip, username) {
      const p = pairs.get(pairKey(ip, username));
      if (p && fresh(p, clock.now()) && p.n >= o.pairFailMax) return { retryAfterS: wait(p), delayMs: 0 };
      const i = slot(ips, ip);
      if (i.n >= o.ipMax) return { retryAfterS: wait(i), delayMs: 0 };
      if (globalSlot().n <= slowAfter) {
        i.n++;
        return { retryAfterS: 0, delayMs: 0 };
      }
      const now = clock.now();
      const delayMs = Math.max(0, nextSlot - now);
      if (delayMs > maxDelay) return { retryAfterS: Math.max(1, Math.ceil(delayMs / 1000)), delayMs: 0 };
      i.n++;
      nextSlot = Math.max(now, nextSlot) + interval;
      return { retryAfterS: 0, delayMs };
    },
    failed(ip, username) {
      slot(pairs, pairKey(ip, username)).n++;
      globalSlot().n++;
    },
    succeeded(ip, username) {
      pairs.delete(pairKey(ip, username));
    },
  };
}
