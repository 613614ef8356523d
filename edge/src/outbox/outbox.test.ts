import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { openOutbox, type Outbox } from "./outbox.ts";
import { isHazriError } from "../../../protocol/errors.ts";
import type { EventDraft } from "../../../protocol/events.ts";

let dir: string;
let t = 1_700_000_000_000;
const clock = { now: () => t, mono: () => 5 };
const up = (state: "up" | "down" = "up"): EventDraft => ({ type: "uplink", state });
const open = (p = path.join(dir, "outbox.sqlite"), centerId = "lhr-01"): Outbox =>
  openOutbox({ path: p, centerId, bootId: "boot-abc", clock, synced: () => false });

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "hazri-outbox-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("outbox", () => {
  it("uses WAL and synchronous=FULL", () => {
    const o = open();
    o.close();
    const db = new Database(path.join(dir, "outbox.sqlite"));
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });
  it("assigns envelope fields and validates", () => {
    const o = open();
    const e = o.append(up());
    expect(e).toMatchObject({ v: 1, centerId: "lhr-01", bootId: "boot-abc", seq: 1, ts: t, mono: 5, synced: false });
    expect(() => o.append({ type: "seat", seat: "bad id", zone: "z", state: "vacant", source: "mqtt" })).toThrow();
    expect(o.lastSeq()).toBe(1); // a failed append does not consume a seq
    o.close();
  });
  it("seq survives reopen, even when the outbox was drained to empty", () => {
    let o = open();
    o.appendMany([up(), up("down"), up()]);
    expect(o.ack([[1, 3]])).toBe(3);
    expect(o.depth()).toBe(0);
    o.close();
    o = open();
    expect(o.append(up()).seq).toBe(4);
    o.close();
  });
  it("crash between append and publish: close without ack → reopen → still there", () => {
    let o = open();
    o.append(up());
    const [b] = o.nextBatch(10, { now: 100, resendAfterMs: 1000 });
    o.markSent([b!.seq], 100);
    o.close(); // no ack
    o = open();
    expect(o.depth()).toBe(1);
    expect(o.nextBatch(10, { now: 150, resendAfterMs: 1000 })).toEqual([]); // in flight
    o.resetInflight(); // what the agent does at start
    expect(o.nextBatch(10, { now: 150, resendAfterMs: 1000 }).map((e) => e.seq)).toEqual([1]);
    o.close();
  });
  it("ack removes only the given seqs; nextBatch is oldest-first and honours resendAfterMs", () => {
    const o = open();
    o.appendMany(Array.from({ length: 10 }, () => up()));
    expect(o.nextBatch(3, { now: 0, resendAfterMs: 10 }).map((e) => e.seq)).toEqual([1, 2, 3]);
    o.markSent([1, 2, 3], 0);
    expect(o.nextBatch(3, { now: 5, resendAfterMs: 10 }).map((e) => e.seq)).toEqual([4, 5, 6]);
    expect(o.nextBatch(3, { now: 10, resendAfterMs: 10 }).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(o.ack([[2, 2], [5, 6], [100, 200]])).toBe(3);
    expect(o.depth()).toBe(7);
    expect(o.nextBatch(20, { now: 100, resendAfterMs: 10 }).map((e) => e.seq)).toEqual([1, 3, 4, 7, 8, 9, 10]);
    o.close();
  });
  it("reject moves to dead_letter", () => {
    const o = open();
    o.appendMany([up(), up()]);
    expect(o.reject([{ seq: 2, code: "SCHEMA", reason: "nope" }, { seq: 99, code: "X", reason: "y" }])).toBe(1);
    expect(o.depth()).toBe(1);
    expect(o.deadLetterCount()).toBe(1);
    o.close();
  });
  it("refuses another center's outbox file", () => {
    open().close();
    try {
      open(undefined, "khi-02");
      expect.fail("should throw");
    } catch (e) {
      expect(isHazriError(e, "OUTBOX_CORRUPT")).toBe(true);
    }
  });
});


describe("outbox model (PB-1, simplified)", () => {
  it("for any append/send/ack/reject/reopen/reset sequence: seqs strictly increase, never reused; outbox == model", () => {
    const cmd = fc.oneof(
      fc.record({ k: fc.constant("append" as const), n: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ k: fc.constant("send" as const), n: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ k: fc.constant("ack" as const), a: fc.integer({ min: 1, max: 30 }), len: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ k: fc.constant("reject" as const), s: fc.integer({ min: 1, max: 30 }) }),
      fc.constant({ k: "reopen" as const }),
      fc.constant({ k: "reset" as const }),
    );
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 25 }), (cmds) => {
        const p = path.join(mkdtempSync(path.join(tmpdir(), "hazri-pb1-")), "o.sqlite");
        let o = open(p);
        const model = new Set<number>();
        let last = 0;
        try {
          for (const c of cmds) {
            if (c.k === "append") {
              for (const e of o.appendMany(Array.from({ length: c.n }, () => up()))) {
                expect(e.seq).toBe(last + 1);
                last = e.seq;
                model.add(e.seq);
              }
            } else if (c.k === "send") {
              const b = o.nextBatch(c.n, { now: 0, resendAfterMs: 1 });
              expect(b.map((e) => e.seq)).toEqual([...model].filter((s) => b.some((e) => e.seq === s)).sort((x, y) => x - y));
              o.markSent(b.map((e) => e.seq), 0);
            } else if (c.k === "ack") {
              o.ack([[c.a, c.a + c.len]]);
              for (let s = c.a; s <= c.a + c.len; s++) model.delete(s);
            } else if (c.k === "reject") {
              o.reject([{ seq: c.s, code: "X", reason: "y" }]);
              model.delete(c.s);
            } else if (c.k === "reopen") {
              o.close();
              o = open(p);
            } else o.resetInflight();
            expect(o.depth()).toBe(model.size);
            expect(o.lastSeq()).toBe(last);
          }
          o.resetInflight();
          expect(o.nextBatch(1000, { now: 0, resendAfterMs: 1 }).map((e) => e.seq)).toEqual([...model].sort((x, y) => x - y));
        } finally {
          o.close();
          rmSync(path.dirname(p), { recursive: true, force: true });
        }
      }),
      { numRuns: 60 },
    );
  });
});
