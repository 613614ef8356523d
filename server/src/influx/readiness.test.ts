import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import { keepDatabaseReady } from "./readiness.ts";

describe("keepDatabaseReady", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("retries with doubling back-off up to the cap, then reports ready once and calls the listeners", async () => {
    let fails = 5;
    const calls: number[] = [];
    const ensure = vi.fn(async () => {
      calls.push(Date.now());
      if (fails-- > 0) throw new Error("ECONNREFUSED");
    });
    const r = keepDatabaseReady({ ensure, logger: silentLogger, minDelayMs: 100, maxDelayMs: 500 });
    const heard = vi.fn();
    r.onReady(heard);
    expect(await r.firstAttempt).toBe(false);
    expect(r.ready()).toBe(false);
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 500 + 500);
    expect(r.ready()).toBe(true);
    expect(ensure).toHaveBeenCalledTimes(6);
    expect(calls.slice(1).map((t, i) => t - (calls[i] as number))).toEqual([100, 200, 400, 500, 500]);
    expect(heard).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ensure).toHaveBeenCalledTimes(6); // no polling once ready
    r.stop();
  });

  it("ready at the first attempt; recheck() makes it not ready, retries at once and notifies again", async () => {
    let ok = true;
    const ensure = vi.fn(async () => {
      if (!ok) throw new Error("down");
    });
    const r = keepDatabaseReady({ ensure, logger: silentLogger, minDelayMs: 100 });
    const heard = vi.fn();
    r.onReady(heard);
    expect(await r.firstAttempt).toBe(true);
    expect(heard).toHaveBeenCalledTimes(1);
    ok = false;
    r.recheck();
    expect(r.ready()).toBe(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(ensure).toHaveBeenCalledTimes(2);
    ok = true;
    await vi.advanceTimersByTimeAsync(100);
    expect(r.ready()).toBe(true);
    expect(heard).toHaveBeenCalledTimes(2);
    r.stop();
  });

  it("stop() ends the retries", async () => {
    const ensure = vi.fn(async () => {
      throw new Error("down");
    });
    const r = keepDatabaseReady({ ensure, logger: silentLogger, minDelayMs: 100 });
    await r.firstAttempt;
    r.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ensure).toHaveBeenCalledTimes(1);
    expect(r.ready()).toBe(false);
  });
});
