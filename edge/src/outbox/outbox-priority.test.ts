import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { openOutbox, type Outbox } from "./outbox.ts";
import type { EventDraft, HazriEvent } from "../../../protocol/events.ts";

/** Bounded outbox with priority classes (issue 3; reliability matrix SF-9). */
const clock = { now: () => 1_700_000_000_000, mono: () => 1 };
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "hazri-outbox-prio-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const seat = (id: string, state: "occupied" | "vacant" = "occupied"): EventDraft => ({ type: "seat", seat: id, zone: "z1", state, source: "mqtt" });
const badge = (): EventDraft => ({
  type: "badge", door: "main", reader: "r1", direction: "in", cardId: "62E3086CED", memberId: "m1", decision: "granted", reason: "ok", flagged: false,
});
const beat = (): EventDraft => ({ type: "heartbeat", outboxDepth: 0, devices: {}, uplinkRttMs: null, uptimeS: 1 });
const open = (p: string, notices: string[] = [], coalesceChunk?: number) =>
  openOutbox({
    path: p, centerId: "lhr-01", bootId: "boot-abc", clock, synced: () => false, maxEvents: 12, seatCoalesceAt: 6,
    onPressure: (s, d) => notices.push(`${s}@${d}`), ...(coalesceChunk !== undefined ? { coalesceChunk } : {}),
  });
const rowsOf = (p: string) => {
  const db = new Database(p, { readonly: true });
  try {
    return (db.prepare("SELECT payload FROM outbox ORDER BY seq").all() as { payload: string }[]).map((r) => JSON.parse(r.payload) as HazriEvent);
  } finally {
    db.close();
  }
};

describe("outbox priorities", () => {
  it("under pressure keeps the newest state per seat, never drops badges, counts exactly, alarms start and end", () => {
    const p = path.join(dir, "o.sqlite");
    const notices: string[] = [];
    const o = open(p, notices);
    o.appendMany([badge(), badge(), badge(), badge(), badge()]); // depth 5
    o.append(seat("s1")); // depth 6 → pressure starts: alarm appended (depth 7)
    expect(o.stats()).toMatchObject({ depth: 7, pressure: true, coalesced: 0 });
    expect(notices).toEqual(["start@7"]);
    o.append(seat("s1", "vacant")); // coalesces the first s1
    o.append(seat("s2"));
    o.append(seat("s1")); // coalesces the second s1
    o.appendMany(Array.from({ length: 6 }, badge)); // never coalesced, beyond maxEvents too
    expect(o.stats()).toMatchObject({ coalesced: 2, pressure: true });
    expect(notices).toContain("full@12");
    const rows = rowsOf(p);
    expect(rows.filter((e) => e.type === "badge")).toHaveLength(11);
    expect(rows.filter((e) => e.type === "seat").map((e) => (e.type === "seat" ? `${e.seat}:${e.state}` : ""))).toEqual(["s2:occupied", "s1:occupied"]);
    expect(rows.filter((e) => e.type === "alarm")).toHaveLength(1);
    // an event already published is never coalesced (it may be in InfluxDB: the counter stays exact)
    const sent = o.nextBatch(100, { now: 0, resendAfterMs: 1 });
    o.markSent(sent.map((e) => e.seq), 0);
    o.append(seat("s2", "vacant"));
    expect(o.stats().coalesced).toBe(2);
    // drain: pressure ends below 90 % of seatCoalesceAt with an alarm "end" carrying the counter
    o.ack([[1, o.lastSeq() - 1]]);
    expect(o.stats()).toMatchObject({ depth: 2, pressure: false, coalesced: 2 });
    const end = rowsOf(p).find((e) => e.type === "alarm");
    expect(end).toMatchObject({ type: "alarm", alarm: "outbox_pressure", state: "end", coalesced: 2 });
    o.close();
    // counters and pressure state survive a restart
    const o2 = open(p);
    expect(o2.stats()).toMatchObject({ depth: 2, coalesced: 2, pressure: false });
    o2.close();
  });

  it("heartbeats coalesce to the newest one under pressure", () => {
    const p = path.join(dir, "o.sqlite");
    const o = open(p);
    o.appendMany(Array.from({ length: 6 }, badge));
    o.appendMany([beat(), beat(), beat()]);
    expect(rowsOf(p).filter((e) => e.type === "heartbeat")).toHaveLength(1);
    expect(o.stats().coalesced).toBe(2);
    o.close();
  });
});

type Row = { seq: number; type: string; key: string | null; attempts: number; sent: boolean };
const C = 6;
const END = Math.floor(C * 0.9);

describe("outbox priorities vs a model (fast-check)", () => {
  it("any append/send/ack/reopen/reset sequence: rows, coalesced counter and pressure equal the model; never-drop rows only leave by ack", () => {
    const cmd = fc.oneof(
      fc.record({ k: fc.constant("seat" as const), s: fc.integer({ min: 0, max: 2 }) }),
      fc.constant({ k: "badge" as const }),
      fc.constant({ k: "beat" as const }),
      fc.record({ k: fc.constant("send" as const), n: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ k: fc.constant("ack" as const), a: fc.integer({ min: 1, max: 40 }), len: fc.integer({ min: 0, max: 6 }) }),
      fc.constant({ k: "reopen" as const }),
      fc.constant({ k: "reset" as const }),
    );
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => {
        const d = mkdtempSync(path.join(tmpdir(), "hazri-prio-pb-"));
        const p = path.join(d, "o.sqlite");
        // A chunk of 2: coalescing a seat's queued history takes several appends (bounded work per append).
        const CHUNK = 2;
        let o: Outbox = open(p, [], CHUNK);
        let model: Row[] = [];
        let seq = 0;
        let coalesced = 0;
        let pressure = false;
        const acked = new Set<number>();
        const neverDrop: number[] = [];
        const check = (drained: boolean) => {
          if (!pressure && model.length >= C) {
            pressure = true;
            neverDrop.push(seq + 1);
            model.push({ seq: ++seq, type: "alarm", key: null, attempts: 0, sent: false });
          } else if (pressure && drained && model.length < END) {
            pressure = false;
            neverDrop.push(seq + 1);
            model.push({ seq: ++seq, type: "alarm", key: null, attempts: 0, sent: false });
          }
        };
        const add = (type: string, key: string | null, draft: EventDraft) => {
          if (pressure && key) {
            const before = model.length;
            let left = CHUNK;
            model = model.filter((r) => !(r.key === key && r.attempts === 0 && left-- > 0));
            coalesced += before - model.length;
          }
          const e = o.append(draft);
          model.push({ seq: ++seq, type, key, attempts: 0, sent: false });
          expect(e.seq).toBe(seq);
          if (key === null) neverDrop.push(seq);
          check(false);
        };
        try {
          for (const c of cmds) {
            if (c.k === "seat") add("seat", `seat:s${c.s}`, seat(`s${c.s}`));
            else if (c.k === "badge") add("badge", null, badge());
            else if (c.k === "beat") add("heartbeat", "heartbeat", beat());
            else if (c.k === "send") {
              const b = o.nextBatch(c.n, { now: 0, resendAfterMs: 1 });
              const want = model.filter((r) => !r.sent).slice(0, c.n);
              expect(b.map((e) => e.seq)).toEqual(want.map((r) => r.seq));
              o.markSent(b.map((e) => e.seq), 0);
              for (const r of want) {
                r.sent = true;
                r.attempts++;
              }
            } else if (c.k === "ack") {
              o.ack([[c.a, c.a + c.len]]);
              for (let s = c.a; s <= c.a + c.len; s++) acked.add(s);
              model = model.filter((r) => r.seq < c.a || r.seq > c.a + c.len);
              check(true);
            } else if (c.k === "reopen") {
              o.close();
              o = open(p, [], CHUNK);
            } else {
              o.resetInflight();
              for (const r of model) r.sent = false;
            }
            const rows = rowsOf(p);
            expect(rows.map((e) => [e.seq, e.type])).toEqual(model.map((r) => [r.seq, r.type]));
            expect(o.stats()).toEqual({ depth: model.length, coalesced, pressure });
          }
          // Never-drop classes: every badge/alarm seq ever assigned is either acked or still queued.
          const present = new Set(rowsOf(p).map((e) => e.seq));
          for (const s of neverDrop) expect(present.has(s) || acked.has(s)).toBe(true);
        } finally {
          o.close();
          rmSync(d, { recursive: true, force: true });
        }
      }),
      { numRuns: 50 },
    );
  });
});
