import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openGroundTruth, readGroundTruth } from "./ground-truth.ts";
import { readerBusySkips } from "./plan-play.ts";
import { createTruthSequencer } from "./truth-order.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "hazri-play-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("readerBusySkips (plan time)", () => {
  const tap = (at: number, reader: string, cardId: string) => ({ at, kind: "tap", reader, cardId });
  it("a reader is busy for (hold + margin) × speed sim ms; the same card also waits the re-present gap", () => {
    const plan = [
      tap(0, "in", "AA"),
      tap(349, "in", "BB"), // inside 350 ms at speed 1: skipped
      tap(350, "in", "BB"), // free again
      tap(400, "out", "BB"), // another reader is never busy because of "in"
      tap(900, "in", "BB"), // same card: 350 + 700 ms gap not over (busy until 1400)
      tap(1400, "in", "BB"),
      { at: 1401, kind: "seat" },
    ];
    expect([...readerBusySkips(plan, 1)]).toEqual([1, 4]);
    // At 1000x the 350 ms hold covers 350 s of sim time.
    expect([...readerBusySkips([tap(0, "in", "AA"), tap(349_000, "in", "BB"), tap(350_000, "in", "BB")], 1000)]).toEqual([1]);
  });
  it("is pure: the same plan and speed always give the same skips", () => {
    const plan = Array.from({ length: 500 }, (_, i) => tap(i * 97, i % 3 ? "in" : "out", i % 5 ? "AA" : "BB"));
    expect([...readerBusySkips(plan, 7)]).toEqual([...readerBusySkips(plan, 7)]);
    expect(readerBusySkips(plan, 7).size).toBeGreaterThan(0);
  });
});

describe("truth sequencer", () => {
  it("writes records in slot (plan) order whatever order the steps finish in, with planMs and the true t", () => {
    let now = 1000;
    const gt = openGroundTruth(path.join(dir, "seq.jsonl"), () => now);
    const seq = createTruthSequencer(gt);
    const a = seq.slot(0);
    const b = seq.slot(10);
    const c = seq.slot(20);
    now = 1005;
    c.write({ kind: "internet", up: false, cause: "drop" });
    c.close();
    b.write({ kind: "internet", up: true, cause: "restore" });
    expect(readGroundTruth(gt.file)).toEqual([]); // a is still open
    now = 1009;
    a.write({ kind: "stop", centerId: "x" });
    expect(readGroundTruth(gt.file).map((r) => r.planMs)).toEqual([0]);
    a.close();
    expect(readGroundTruth(gt.file).map((r) => r.planMs)).toEqual([0, 10]); // b open but now the head: written through
    b.close();
    const recs = readGroundTruth(gt.file);
    expect(recs.map((r) => [r.planMs, r.kind, r.t])).toEqual([
      [0, "stop", 1009],
      [10, "internet", 1005],
      [20, "internet", 1005],
    ]);
    expect(seq.pending()).toBe(0);
    expect(() => c.write({ kind: "stop", centerId: "x" })).toThrow(/write after close/);
  });
});
