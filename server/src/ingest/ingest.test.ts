import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import type { Clock } from "../../../protocol/clock.ts";
import type { AckMessage } from "../../../protocol/messages.ts";
import { MAX_PAYLOAD_BYTES } from "../../../protocol/messages.ts";
import { topics } from "../../../protocol/topics.ts";
import { eventToLine } from "../../../protocol/influx.ts";
import { createLiveState } from "../live/state.ts";
import { createMetrics } from "../metrics.ts";
import { createIngest } from "./ingest.ts";

const CENTER = "lhr-02";
const clock: Clock = { now: () => 1_800_000_000_000, mono: () => 0 };

function door(seq: number, centerId = CENTER) {
  return { v: 1, centerId, bootId: "boot-abc1", seq, ts: 1_700_000_000_000 + seq, mono: seq, synced: true, type: "door", door: "main", state: "opened" };
}
function batch(events: unknown[], centerId = CENTER) {
  return Buffer.from(JSON.stringify({ v: 1, centerId, bootId: "boot-abc1", sentAt: 1, events }));
}

function setup(opts: { fail?: boolean; maxPendingEvents?: number; writeConcurrency?: number } = {}) {
  const log: string[] = [];
  const writes: string[][] = [];
  const held: Array<() => void> = [];
  let fail = opts.fail ?? false;
  let hold = false;
  const influx = {
    writeLines: vi.fn(async (lines: string[]) => {
      log.push("write");
      writes.push(lines);
      if (hold) await new Promise<void>((r) => held.push(r));
      if (fail) throw Object.assign(new Error("influx down"), { code: "INGEST_INFLUX_WRITE" });
    }),
  };
  const acks: AckMessage[] = [];
  const publishAck = vi.fn(async (_c: string, ack: AckMessage) => {
    log.push("ack");
    acks.push(ack);
  });
  const live = createLiveState();
  const metrics = createMetrics();
  const ingest = createIngest({
    influx,
    publishAck,
    live,
    logger: silentLogger,
    clock,
    metrics,
    opts: { maxBatchDelayMs: 20, maxPendingEvents: opts.maxPendingEvents ?? 1000, writeConcurrency: opts.writeConcurrency ?? 2 },
  });
  return {
    ingest, influx, publishAck, acks, writes, log, live, metrics,
    setFail: (f: boolean) => (fail = f),
    hold: () => (hold = true),
    release: () => {
      hold = false;
      for (const r of held.splice(0)) r();
    },
  };
}

const up = topics.up(CENTER, "events");

describe("ingest", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("writes a valid batch, then acks its seq ranges, then updates live state", async () => {
    const t = setup();
    t.ingest.handleMessage(up, batch([door(1), door(2), door(3), door(7)]));
    expect(t.influx.writeLines).not.toHaveBeenCalled(); // waits up to maxBatchDelayMs to coalesce
    await vi.advanceTimersByTimeAsync(25);
    expect(t.log).toEqual(["write", "ack"]);
    expect(t.writes[0]).toEqual([1, 2, 3, 7].map((s) => eventToLine(door(s) as never)));
    expect(t.acks).toEqual([{ v: 1, centerId: CENTER, acked: [[1, 3], [7, 7]], rejected: [], serverTime: clock.now() }]);
    expect(t.publishAck.mock.calls[0]?.[0]).toBe(CENTER);
    expect(t.live.center(CENTER)?.doors.main?.state).toBe("opened");
    expect(t.metrics.eventsIngested).toBe(4);
    expect(t.metrics.writeBatches).toBe(1);
  });

  it("coalesces messages from several centers into ONE write and acks each center", async () => {
    const t = setup();
    t.ingest.handleMessage(up, batch([door(1)]));
    t.ingest.handleMessage(up, batch([door(2)]));
    t.ingest.handleMessage(topics.up("khi-1", "events"), batch([door(5, "khi-1")], "khi-1"));
    await vi.advanceTimersByTimeAsync(25);
    expect(t.influx.writeLines).toHaveBeenCalledTimes(1);
    expect(t.writes[0]).toHaveLength(3);
    expect(t.acks.map((a) => [a.centerId, a.acked])).toEqual([
      [CENTER, [[1, 2]]],
      ["khi-1", [[5, 5]]],
    ]);
  });

  it("echoes the batch's outboxId in its ack; batches of two outboxes of one center get one ack each", async () => {
    const t = setup();
    const withOutbox = (events: unknown[], outboxId: string) => Buffer.from(JSON.stringify({ v: 1, centerId: CENTER, bootId: "boot-abc1", sentAt: 1, outboxId, events }));
    t.ingest.handleMessage(up, withOutbox([door(1), door(2)], "outbox-old-0001"));
    const fresh = (seq: number) => ({ ...door(seq), bootId: "boot-new-2" }); // the wiped edge's new boot
    t.ingest.handleMessage(up, withOutbox([fresh(1)], "outbox-new-0002"));
    await vi.advanceTimersByTimeAsync(25);
    expect(t.influx.writeLines).toHaveBeenCalledTimes(1);
    expect(t.acks.map((a) => [a.outboxId, a.acked])).toEqual([
      ["outbox-old-0001", [[1, 2]]],
      ["outbox-new-0002", [[1, 1]]],
    ]);
    t.ingest.handleMessage(up, batch([door(9)])); // an edge from before outbox ids: its ack has none
    await vi.advanceTimersByTimeAsync(25);
    expect(t.acks[2]).not.toHaveProperty("outboxId");
  });

  it("does NOT ack when the write fails; counts it; a later re-send is acked", async () => {
    const t = setup({ fail: true });
    t.ingest.handleMessage(up, batch([door(1), door(2)]));
    await vi.advanceTimersByTimeAsync(25);
    expect(t.influx.writeLines).toHaveBeenCalledTimes(1);
    expect(t.publishAck).not.toHaveBeenCalled();
    expect(t.metrics.writeFailures).toBe(1);
    expect(t.metrics.rejected.INGEST_INFLUX_WRITE).toBe(2);
    expect(t.live.center(CENTER)).toBeNull();
    t.setFail(false);
    t.ingest.handleMessage(up, batch([door(1), door(2)]));
    await vi.advanceTimersByTimeAsync(25);
    expect(t.acks[0]?.acked).toEqual([[1, 2]]);
  });

  it.each([
    ["MQTT_PAYLOAD_JSON", Buffer.from("{not json")],
    ["MQTT_PAYLOAD_SCHEMA", Buffer.from(JSON.stringify({ v: 1, centerId: CENTER, events: [] }))],
    ["MQTT_PAYLOAD_SCHEMA", Buffer.from("[]")],
    ["MQTT_CENTER_MISMATCH", batch([door(1, "other")], "other")],
    ["MQTT_PAYLOAD_TOO_LARGE", Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20)],
  ])("malformed payload → %s counted, nothing written, nothing acked", async (code, payload) => {
    const t = setup();
    t.ingest.handleMessage(up, payload);
    await vi.advanceTimersByTimeAsync(100);
    expect(t.influx.writeLines).not.toHaveBeenCalled();
    expect(t.publishAck).not.toHaveBeenCalled();
    expect(t.metrics.rejected[code]).toBe(1);
  });

  it("refuses non-uplink topics", async () => {
    const t = setup();
    t.ingest.handleMessage(topics.down(CENTER, "ack"), batch([door(1)]));
    t.ingest.handleMessage("foo/bar", batch([door(1)]));
    await vi.advanceTimersByTimeAsync(100);
    expect(t.influx.writeLines).not.toHaveBeenCalled();
    expect(t.metrics.rejected.MQTT_TOPIC).toBe(2);
  });

  it("mixed batch: valid events written and acked, invalid ones in `rejected` with their seq", async () => {
    const t = setup();
    const bad1 = { ...door(2), state: "ajar" };
    const bad2 = door(3, "someone-else");
    const bad3 = { junk: true }; // no readable seq: counted, cannot be named in the ack
    t.ingest.handleMessage(up, batch([door(1), bad1, bad2, bad3, door(4)]));
    await vi.advanceTimersByTimeAsync(25);
    expect(t.writes[0]).toHaveLength(2);
    const ack = t.acks[0];
    expect(ack?.acked).toEqual([[1, 1], [4, 4]]);
    expect(ack?.rejected.map((r) => [r.seq, r.code])).toEqual([
      [2, "MQTT_PAYLOAD_SCHEMA"],
      [3, "MQTT_CENTER_MISMATCH"],
    ]);
    expect(ack?.rejected[0]?.reason).toMatch(/state/);
    expect(t.metrics.rejected.MQTT_PAYLOAD_SCHEMA).toBe(2);
  });

  it("only invalid events: no write, but the rejections are acked", async () => {
    const t = setup();
    t.ingest.handleMessage(up, batch([{ ...door(9), v: 2 }]));
    await vi.advanceTimersByTimeAsync(25);
    expect(t.influx.writeLines).not.toHaveBeenCalled();
    expect(t.acks).toEqual([{ v: 1, centerId: CENTER, acked: [], rejected: [expect.objectContaining({ seq: 9 })], serverTime: clock.now() }]);
  });

  it("writeConcurrency 1: one write in flight; backpressure drops new batches un-acked beyond maxPendingEvents", async () => {
    const t = setup({ maxPendingEvents: 3, writeConcurrency: 1 });
    t.hold();
    t.ingest.handleMessage(up, batch([door(1), door(2)]));
    await vi.advanceTimersByTimeAsync(25);
    expect(t.influx.writeLines).toHaveBeenCalledTimes(1);
    t.ingest.handleMessage(up, batch([door(3)])); // 3 pending: fits
    t.ingest.handleMessage(up, batch([door(4)])); // 4 > 3: dropped
    await vi.advanceTimersByTimeAsync(100);
    expect(t.influx.writeLines).toHaveBeenCalledTimes(1); // still one in flight
    expect(t.metrics.pendingEvents).toBe(3);
    expect(t.metrics.rejected.INGEST_BACKPRESSURE).toBe(1);
    t.release();
    await vi.advanceTimersByTimeAsync(25);
    await t.ingest.drain();
    expect(t.acks.map((a) => a.acked)).toEqual([[[1, 2]], [[3, 3]]]);
    expect(t.metrics.pendingEvents).toBe(0);
  });

  it("status and time topics", async () => {
    const replies: unknown[] = [];
    const live = createLiveState();
    const ingest = createIngest({
      influx: { writeLines: async () => {} },
      publishAck: async () => {},
      publishTimeReply: async (_c, r) => void replies.push(r),
      live,
      logger: silentLogger,
      clock,
      metrics: createMetrics(),
    });
    ingest.handleMessage(
      topics.up(CENTER, "status"),
      Buffer.from(JSON.stringify({ v: 1, centerId: CENTER, state: "online", bootId: "boot-abc1", ts: 5 })),
    );
    ingest.handleMessage(topics.up(CENTER, "status"), Buffer.alloc(0));
    ingest.handleMessage(topics.up(CENTER, "time"), Buffer.from(JSON.stringify({ v: 1, centerId: CENTER, edgeTime: 42 })));
    await vi.advanceTimersByTimeAsync(1);
    expect(live.center(CENTER)?.edge).toEqual({ online: true, bootId: "boot-abc1", lastSeen: 5 });
    expect(replies).toEqual([{ v: 1, centerId: CENTER, edgeTime: 42, serverTime: clock.now() }]);
  });

  it("outbox wiped at the edge: the new boot's seqs 1.. are new events (written, acked, live), a re-send of the old boot is a duplicate", async () => {
    const t = setup();
    const ev = (bootId: string, seq: number, ts: number, state: "opened" | "closed") =>
      ({ ...door(seq), bootId, ts, state }) as ReturnType<typeof door>;
    const old = [1, 2, 3].map((s) => ev("boot-old1", s, 1_700_000_000_000 + s, s % 2 ? "opened" : "closed"));
    t.ingest.handleMessage(up, batch(old));
    await vi.advanceTimersByTimeAsync(25);
    expect(t.live.center(CENTER)?.doors.main?.state).toBe("opened"); // old seq 3
    // SD card replaced: a fresh outbox, seq restarts at 1, a new boot id, a later (synced) clock.
    const fresh = [1, 2].map((s) => ev("boot-new1", s, 1_700_000_100_000 + s, s % 2 ? "opened" : "closed"));
    t.ingest.handleMessage(up, batch(fresh));
    await vi.advanceTimersByTimeAsync(25);
    expect(t.metrics.duplicates).toBe(0);
    expect(t.writes).toHaveLength(2);
    expect(t.writes[1]).toEqual(fresh.map((e) => eventToLine(e as never)));
    expect(t.acks.map((a) => a.acked)).toEqual([[[1, 3]], [[1, 2]]]);
    expect(t.metrics.eventsIngested).toBe(5);
    // Live state follows the new boot although its seqs are lower (new seq 2 = closed).
    expect(t.live.center(CENTER)?.doors.main?.state).toBe("closed");
    expect(t.live.center(CENTER)?.lastEvents.map((e) => `${e.bootId}/${e.seq}`)).toEqual([
      "boot-new1/2", "boot-new1/1", "boot-old1/3", "boot-old1/2", "boot-old1/1",
    ]);
    // A late re-send of the old boot's events (same boot id, same seqs) IS a duplicate: acked again, not written.
    t.ingest.handleMessage(up, batch(old));
    await vi.advanceTimersByTimeAsync(25);
    expect(t.writes).toHaveLength(2);
    expect(t.metrics.duplicates).toBe(3);
    expect(t.acks[2]?.acked).toEqual([[1, 3]]);
    expect(t.live.center(CENTER)?.doors.main?.state).toBe("closed");
  });

  it("not writable (database not there yet): batches wait un-acked, re-sends are not queued twice; kick() writes and acks them", async () => {
    let writable = false;
    const writes: string[][] = [];
    const acks: AckMessage[] = [];
    const live = createLiveState();
    const metrics = createMetrics();
    const ingest = createIngest({
      influx: { writeLines: async (l) => void writes.push(l) },
      publishAck: async (_c, a) => void acks.push(a),
      live,
      logger: silentLogger,
      clock,
      metrics,
      writable: () => writable,
      opts: { maxBatchDelayMs: 20, maxPendingEvents: 3 },
    });
    ingest.handleMessage(up, batch([door(1), door(2)]));
    ingest.handleMessage(up, batch([door(1), door(2)])); // the edge's re-send timer fired
    await vi.advanceTimersByTimeAsync(1000);
    expect(writes).toEqual([]);
    expect(acks).toEqual([]);
    expect(metrics.pendingEvents).toBe(2);
    ingest.handleMessage(up, batch([door(3), door(4)])); // 4 > 3: bounded memory, dropped un-acked
    expect(metrics.rejected.INGEST_BACKPRESSURE).toBe(1);
    await ingest.drain(); // resolves: nothing can be written now
    writable = true;
    ingest.kick();
    await vi.advanceTimersByTimeAsync(25);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toHaveLength(2);
    expect(acks.map((a) => a.acked)).toEqual([[[1, 2]]]);
    expect(live.center(CENTER)?.lastEvents).toHaveLength(2);
  });

  it("the next write does not wait for the previous write's acks; drain() waits for both", async () => {
    const t = setup();
    let releaseAck: (() => void) | null = null;
    t.publishAck.mockImplementationOnce(async (_c, ack) => {
      t.log.push("ack-held");
      await new Promise<void>((r) => (releaseAck = r));
      t.acks.push(ack);
    });
    t.ingest.handleMessage(up, batch([door(1)]));
    await vi.advanceTimersByTimeAsync(25);
    t.ingest.handleMessage(up, batch([door(2)]));
    await vi.advanceTimersByTimeAsync(25);
    expect(t.log).toEqual(["write", "ack-held", "write", "ack"]); // write 2 went out while ack 1 was pending
    let drained = false;
    const d = t.ingest.drain().then(() => (drained = true));
    await vi.advanceTimersByTimeAsync(25);
    expect(drained).toBe(false);
    expect(t.live.center(CENTER)?.doors.main).toBeDefined(); // batch 2 applied
    (releaseAck as unknown as () => void)();
    await d;
    expect(t.acks.map((a) => a.acked)).toEqual([[[2, 2]], [[1, 1]]]);
    expect(t.metrics.eventsIngested).toBe(2);
  });

  it("writeConcurrency 2: two writes in flight, a third waits; an event is never in two writes; all acked once released", async () => {
    const t = setup();
    t.hold();
    t.ingest.handleMessage(up, batch([door(1), door(2)]));
    await vi.advanceTimersByTimeAsync(25);
    t.ingest.handleMessage(up, batch([door(2), door(3)])); // 2 is in flight: not queued again
    await vi.advanceTimersByTimeAsync(25);
    t.ingest.handleMessage(up, batch([door(4)]));
    await vi.advanceTimersByTimeAsync(100);
    expect(t.writes).toEqual([[1, 2], [3]].map((seqs) => seqs.map((s) => eventToLine(door(s) as never))));
    expect(t.metrics.pendingEvents).toBe(4);
    t.release();
    await vi.advanceTimersByTimeAsync(25);
    await t.ingest.drain();
    expect(t.writes.length).toBe(3);
    expect(t.writes[2]).toEqual([eventToLine(door(4) as never)]);
    expect(t.acks.flatMap((a) => a.acked)).toEqual([[1, 2], [3, 3], [4, 4]]);
    expect(t.metrics.eventsIngested).toBe(4);
    expect(t.metrics.pendingEvents).toBe(0);
  });
});

