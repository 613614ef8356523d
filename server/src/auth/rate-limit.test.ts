import { describe, expect, it } from "vitest";
import { createLoginLimiter } from "./rate-limit.ts";

function limiter(o: Partial<Parameters<typeof createLoginLimiter>[1]> = {}) {
  let now = 1_000_000;
  const clock = { now: () => now, mono: () => now };
  const l = createLoginLimiter(clock, { ipMax: 30, pairFailMax: 5, windowMs: 60_000, globalSlowAfter: 10, slowIntervalMs: 200, maxDelayMs: 1_000, ...o });
  return { l, advance: (ms: number) => (now += ms) };
}
const ok = { retryAfterS: 0, delayMs: 0 };

describe("login limiter", () => {
  it("locks a (username, IP) pair after pairFailMax failures; other IPs and other usernames are unaffected", () => {
    const { l, advance } = limiter();
    for (let i = 0; i < 5; i++) {
      expect(l.check("10.0.0.1", "Admin")).toEqual(ok);
      l.failed("10.0.0.1", "Admin");
    }
    expect(l.check("10.0.0.1", "admin").retryAfterS).toBe(60); // usernames are case-insensitive
    expect(l.check("10.0.0.2", "admin")).toEqual(ok);
    expect(l.check("10.0.0.1", "bob")).toEqual(ok);
    advance(30_000);
    expect(l.check("10.0.0.1", "admin").retryAfterS).toBe(30);
    advance(30_000); // window over
    expect(l.check("10.0.0.1", "admin")).toEqual(ok);
  });

  it("a success clears the pair; the IP counts every attempt (spraying many usernames)", () => {
    const { l } = limiter({ ipMax: 3 });
    l.check("10.0.0.1", "a");
    l.failed("10.0.0.1", "a");
    l.succeeded("10.0.0.1", "a");
    l.check("10.0.0.1", "b");
    l.check("10.0.0.1", "c");
    expect(l.check("10.0.0.1", "d").retryAfterS).toBeGreaterThan(0);
    expect(l.check("10.0.0.9", "d")).toEqual(ok);
  });

  it("global slow-down: beyond globalSlowAfter failures, attempts get slots one interval apart; a wait beyond maxDelayMs is a 429", () => {
    const { l, advance } = limiter();
    for (let i = 0; i <= 10; i++) l.failed(`10.1.0.${i}`, "admin"); // 11 failures from 11 IPs: nobody locked
    expect(l.check("10.2.0.1", "admin")).toEqual({ retryAfterS: 0, delayMs: 0 });
    expect(l.check("10.2.0.2", "admin").delayMs).toBe(200);
    expect(l.check("10.2.0.3", "x").delayMs).toBe(400);
    advance(100);
    expect(l.check("10.2.0.4", "admin").delayMs).toBe(500);
    // Slots are taken up to 1 s ahead; the next one would wait longer: refused "busy", not locked.
    expect([1, 2].map(() => l.check("10.2.0.5", "admin").delayMs)).toEqual([700, 900]);
    const busy = l.check("10.2.0.6", "admin");
    expect(busy).toEqual({ retryAfterS: 2, delayMs: 0 });
    advance(60_000); // the window of failures is over: no slow-down
    expect(l.check("10.2.0.7", "admin")).toEqual(ok);
  });

  it("bounded memory: at most maxKeys pairs are remembered (oldest dropped)", () => {
    const { l } = limiter({ maxKeys: 2, pairFailMax: 1 });
    l.failed("1.1.1.1", "a");
    l.failed("1.1.1.2", "a");
    l.failed("1.1.1.3", "a"); // drops the oldest pair
    expect(l.check("1.1.1.1", "a")).toEqual(ok);
    expect(l.check("1.1.1.3", "a").retryAfterS).toBeGreaterThan(0);
  });
});
