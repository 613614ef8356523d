/**
 * Time correction at the edge (issue 3, decided design): events taken before the clock synced are
 * held back after CONNACK until the time reply (bounded wait), rewritten once in the outbox with
 * ts = trueNow − (monoNow − mono) and `tsCorrected: true`, and only then sent. A row sent once is
 * never rewritten; earlier boots' rows are not held and not corrected.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { openOutbox, type Outbox } from "../outbox/outbox.ts";
import { createUplink, type Uplink } from "./uplink.ts";
import { createSettableClock, type SettableClock } from "./settable-clock.ts";
import { startTestBroker, until } from "./test-broker.ts";
import { silentLogger, type Clock } from "../../../protocol/clock.ts";
import { topics } from "../../../protocol/topics.ts";
import { UplinkBatch, toRanges } from "../../../protocol/messages.ts";
import { eventToPoint } from "../../../protocol/influx.ts";
import type { HazriEvent } from "../../../protocol/events.ts";

const C = "lhr-01";
const YEAR = 365 * 24 * 3600_000;
let dir: string;
let broker: Awaited<ReturnType<typeof startTestBroker>>;
let server: MqttClient;
let outbox: Outbox | null = null;
let uplink: Uplink | null = null;
let received: HazriEvent[];
let pendingTime: (() => void)[];
let answerTime: boolean;
let ack: boolean;

// The box's clock is ten years behind (no RTC); mono is real.
const behind: Clock = { now: () => Date.now() - 10 * YEAR, mono: () => performance.now() };

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "hazri-tcorr-"));
  broker = await startTestBroker();
  received = [];
  pendingTime = [];
  answerTime = true;
  ack = true;
  server = await mqtt.connectAsync(broker.url, { clientId: "fake-server", clean: true });
  await server.subscribeAsync({ [topics.allUp("events")]: { qos: 1 }, [topics.allUp("time")]: { qos: 1 } });
  server.on("message", (topic, payload) => {
    const body = JSON.parse(payload.toString());
    if (topic === topics.up(C, "time")) {
      const reply = () => server.publish(topics.down(C, "time"), JSON.stringify({ v: 1, centerId: C, edgeTime: body.edgeTime, serverTime: Date.now() }), { qos: 1 });
      if (answerTime) reply();
      else pendingTime.push(reply);
      return;
    }
    const events = UplinkBatch.parse(body).events as HazriEvent[];
    received.push(...events);
    if (ack) server.publish(topics.down(C, "ack"), JSON.stringify({ v: 1, centerId: C, acked: toRanges(events.map((e) => e.seq)), rejected: [], serverTime: Date.now() }), { qos: 1 });
  });
});

afterEach(async () => {
  await uplink?.stop();
  uplink = null;
  outbox?.close();
  outbox = null;
  await server.endAsync();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

const open = (bootId: string, clock: SettableClock) =>
  openOutbox({ path: path.join(dir, "outbox.sqlite"), centerId: C, bootId, clock, synced: () => clock.synced() });
const start = (bootId: string, clock: SettableClock, timeSyncWaitMs = 5000) => {
  uplink = createUplink({ url: broker.url, centerId: C, bootId, outbox: outbox!, clock, logger: silentLogger, batchSize: 5, resendAfterMs: 300, window: 2, reconnectPeriodMs: 100, timeSyncWaitMs });
  uplink.start();
};
const door = (n: number) => Array.from({ length: n }, () => ({ type: "door" as const, door: "main", state: "opened" as const }));

describe("outbox.correctUnsynced", () => {
  it("rewrites only this boot's never-sent unsynced rows, in chunks; sent rows and earlier boots untouched", () => {
    const clockA = createSettableClock(behind, { trusted: false });
    outbox = open("boot-aaaa", clockA);
    outbox.appendMany(door(2)); // seqs 1-2: earlier boot
    outbox.close();
    const clockB = createSettableClock(behind, { trusted: false });
    outbox = open("boot-bbbb", clockB);
    expect(outbox.bootFirstSeq).toBe(3);
    const mine = outbox.appendMany(door(4)); // seqs 3-6
    outbox.markSent([4], performance.now()); // seq 4 left once: frozen
    const wallMinusMono = Date.now() - performance.now();
    let step = outbox.correctUnsynced({ fromSeq: 3, toSeq: 6, wallMinusMono, limit: 2 });
    expect(step).toEqual({ corrected: 2, skipped: 0, nextSeq: 6, done: false }); // rows 3 and 5: row 4 is not even selected (attempts > 0)
    step = outbox.correctUnsynced({ fromSeq: step.nextSeq, toSeq: 6, wallMinusMono, limit: 2 });
    expect(step).toMatchObject({ corrected: 1, done: true });
    // a second pass changes nothing
    expect(outbox.correctUnsynced({ fromSeq: 1, toSeq: 6, wallMinusMono, limit: 100 })).toMatchObject({ corrected: 0, done: true });
    const rows = new Map(outbox.nextBatch(100, { now: 1e15, resendAfterMs: 0 }).map((e) => [e.seq, e]));
    for (const s of [1, 2]) expect(rows.get(s)).not.toHaveProperty("tsCorrected");
    expect(rows.get(4)).not.toHaveProperty("tsCorrected");
    expect(rows.get(4)?.ts).toBe(mine[1]?.ts);
    for (const [i, s] of [3, 5, 6].entries()) {
      const e = rows.get(s)!;
      const orig = mine[[0, 2, 3][i]!]!;
      expect(e).toMatchObject({ tsCorrected: true, synced: false, mono: orig.mono, bootId: "boot-bbbb" });
      expect(e.ts).toBe(Math.round(orig.mono + wallMinusMono));
      expect(Math.abs(e.ts - Date.now())).toBeLessThan(60_000);
      expect(eventToPoint(e).fields.ts_corrected).toBe(true);
    }
    expect(eventToPoint(rows.get(4)!).fields).not.toHaveProperty("ts_corrected");
  });

  it("nextBatchRaw with belowSeq holds back the rest", () => {
    const clock = createSettableClock(behind, { trusted: false });
    outbox = open("boot-cccc", clock);
    outbox.appendMany(door(5));
    expect(outbox.nextBatchRaw(10, { now: 0, resendAfterMs: 0, belowSeq: 3 }).seqs).toEqual([1, 2]);
  });
});

describe("uplink holds this boot's unsynced events for the time reply", () => {
  it("earlier boots flow at once; this boot's events wait, then leave corrected, exactly once", async () => {
    const clockA = createSettableClock(behind, { trusted: false });
    outbox = open("boot-aaaa", clockA);
    outbox.appendMany(door(3)); // an earlier boot that never synced
    outbox.close();
    const clock = createSettableClock(behind, { trusted: false });
    outbox = open("boot-bbbb", clock);
    outbox.appendMany(door(7));
    answerTime = false;
    start("boot-bbbb", clock);
    await until(() => received.length >= 3 && pendingTime.length > 0, "earlier boot sent, time request seen");
    // nothing of this boot leaves while the reply is outstanding (the hold lasts ≤ 5 s; we answer first)
    expect(received.map((e) => e.bootId)).toEqual(["boot-aaaa", "boot-aaaa", "boot-aaaa"]);
    expect(received.every((e) => e.synced === false && e.tsCorrected === undefined)).toBe(true);
    const beforeReply = Date.now();
    for (const r of pendingTime) r();
    await until(() => outbox!.depth() === 0 && received.some((e) => e.type === "clock"), "drained after the reply", 10_000);
    const mine = received.filter((e) => e.bootId === "boot-bbbb");
    const unsynced = mine.filter((e) => !e.synced);
    // 7 doors + the uplink "up" recorded at CONNACK, all taken before the sync
    expect(unsynced).toHaveLength(8);
    for (const e of unsynced) {
      expect(e.tsCorrected).toBe(true);
      expect(e.ts).toBeLessThanOrEqual(beforeReply + 1000);
      expect(e.ts).toBeGreaterThan(beforeReply - 60_000);
    }
    const clockEv = mine.find((e) => e.type === "clock")!;
    expect(clockEv).toMatchObject({ synced: true });
    expect(clockEv).not.toHaveProperty("tsCorrected");
    for (const e of unsynced) expect(e.seq).toBeLessThan(clockEv.seq);
    // in seq order and each once
    const seqs = received.map((e) => e.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
  });

  it("no reply within timeSyncWaitMs: sent uncorrected; a late reply corrects only never-sent rows, a sent row keeps its ts", async () => {
    const clock = createSettableClock(behind, { trusted: false });
    outbox = open("boot-dddd", clock);
    outbox.appendMany(door(4));
    answerTime = false;
    ack = false; // keep the sent rows in the outbox, re-sent every resendAfterMs
    start("boot-dddd", clock, 300);
    await until(() => new Set(received.map((e) => e.seq)).size >= 5, "sent after the hold expired", 10_000);
    const firstTs = new Map(received.map((e) => [e.seq, e.ts]));
    expect(received.every((e) => e.tsCorrected === undefined && e.ts < Date.now() - 9 * YEAR)).toBe(true);
    outbox.appendMany(door(2)); // new, never sent, still unsynced: to be held/corrected
    for (const r of pendingTime) r();
    await until(() => clock.synced() && received.filter((e) => e.tsCorrected).length >= 2, "new rows sent corrected", 10_000);
    ack = true;
    await until(() => outbox!.depth() === 0, "drained", 10_000);
    for (const e of received) {
      const t0 = firstTs.get(e.seq);
      if (t0 !== undefined) {
        expect(e.ts).toBe(t0); // every copy of a row sent before the reply: same ts, same point
        expect(e.tsCorrected).toBeUndefined();
      }
    }
    const late = received.filter((e) => !firstTs.has(e.seq) && e.type === "door");
    expect(late.length).toBeGreaterThanOrEqual(2);
    for (const e of late) expect(e).toMatchObject({ tsCorrected: true, synced: false });
  });

  it("a trusted clock holds nothing", async () => {
    const clock = createSettableClock({ now: () => Date.now(), mono: () => performance.now() }, { trusted: true });
    outbox = open("boot-eeee", clock);
    outbox.appendMany(door(3));
    answerTime = false;
    start("boot-eeee", clock, 60_000);
    await until(() => outbox!.depth() === 0 && received.length >= 4, "sent at once");
    expect(received.every((e) => e.synced && e.tsCorrected === undefined)).toBe(true);
  });
});
