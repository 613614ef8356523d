import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createGarbageLog } from "./garbage-log.ts";

const capture = () => {
  const warns: Record<string, unknown>[] = [];
  const logger = { debug() {}, info() {}, error() {}, warn: (o: unknown) => void warns.push(o as Record<string, unknown>), child: () => logger };
  return { logger, warns };
};

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("rate-limited garbage warning", () => {
  it("first garbage at once, then one summed warn per interval while it continues, exact counts", () => {
    const { logger, warns } = capture();
    let t = 0;
    const g = createGarbageLog({ logger, what: "device rfid", intervalMs: 60_000, now: () => t });
    g.add("noise", 10);
    expect(warns).toEqual([expect.objectContaining({ runs: 1, bytes: 10, totalBytes: 10, reasons: { noise: 1 } })]);
    // a minute of continuous garbage: 600 runs, one warn at the end of the interval
    for (let i = 0; i < 600; i++) {
      t += 99;
      vi.advanceTimersByTime(99);
      g.add(i % 2 ? "noise" : "format", 3);
    }
    vi.advanceTimersByTime(1000);
    t += 1000;
    expect(warns).toHaveLength(2);
    expect(warns[1]).toMatchObject({ runs: 600, bytes: 1800, totalRuns: 601, totalBytes: 1810, reasons: { noise: 300, format: 300 } });
    // quiet: nothing more
    vi.advanceTimersByTime(600_000);
    t += 600_000;
    expect(warns).toHaveLength(2);
    // after the quiet period the next run is reported at once again
    g.add("FRAME_CHECKSUM", 14);
    expect(warns).toHaveLength(3);
    expect(warns[2]).toMatchObject({ runs: 1, bytes: 14, totalRuns: 602 });
  });

  it("close() reports what is pending and stops", () => {
    const { logger, warns } = capture();
    let t = 0;
    const g = createGarbageLog({ logger, what: "x", intervalMs: 60_000, now: () => t });
    g.add("noise", 1);
    t += 10;
    g.add("noise", 2);
    g.close();
    expect(warns.map((w) => w.bytes)).toEqual([1, 2]);
    g.add("noise", 5);
    vi.advanceTimersByTime(120_000);
    expect(warns).toHaveLength(2);
  });
});
