import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import type { Clock } from "../../../protocol/clock.ts";
import type { AckMessage } from "../../../protocol/messages.ts";
import { topics } from "../../../protocol/topics.ts";
import { createLiveState } from "../live/state.ts";
import { createMetrics, renderPrometheus } from "../metrics.ts";
import { MAX_FUTURE_MS, createIngest } from "./ingest.ts";

const CENTER = "lhr-02";
const NOW = 1_800_000_000_000;
const clock: Clock = { now: () => NOW, mono: () => 0 };
const up = topics.up(CENTER, "events");

function door(seq: number, over: Record<string, unknown> = {}) {
  return { v: 1, centerId: CENTER, bootId: "boot-abc1", seq, ts: NOW - 10_000 + seq, mono: seq, synced: true, type: "door", door: "main", state: "opened", ...over };
}
const batch = (events: unknown[], centerId = CENTER) =>
  Buffer.from(JSON.stringify({ v: 1, centerId, bootId: "boot-abc1", sentAt: 1, events }));

function setup(opts: { active?: (id: string) => boolean } = {}) {
  const writes: string[][] = [];
  let fail = false;
  let hold: Promise<void> | null = null;
  let release = () => {};
  const influx = {
    writeLines: vi.fn(async (lines: string[]) => {
      writes.push(lines);
      if (hold) await hold;
      if (fail) throw new Error("influx down");
    }),
  };
  const acks: AckMessage[] = [];
  const metrics = createMetrics();
  const ingest = createIngest({
    influx,
    publishAck: async (_c, a) => void acks.push(a),
    live: createLiveState(),
    logger: silentLogger,
    clock,
    metrics,
    opts: { maxBatchDelayMs: 5 },
    ...(opts.active ? { centers: { isActive: opts.active } } : {}),
  });
  return {
    ingest, writes, acks, metrics,
    setFail: (f: boolean) => (fail = f),
    hold: () => (hold = new Promise<void>((r) => (release = r))),
    release: () => {
      hold = null;
      release();
    },
  };
}

describe("ingest guards", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("a replay of a batch written moments ago is acked again but not re-written, and counted", async () => {
    const t = setup();
    t.ingest.handleMessage(up, batch([door(1), door(2), door(3)]));
    await vi.advanceTimersByTimeAsync(10);
    t.ingest.handleMessage(up, batch([door(1), door(2), door(3), door(4)]));
    await vi.advanceTimersByTimeAsync(10);
    expect(t.writes.map((w) => w.length)).toEqual([3, 1]);
    expect(t.acks.map((a) => a.acked)).toEqual([[[1, 3]], [[1, 4]]]);
    expect(t.metrics.duplicates).toBe(3);
    expect(renderPrometheus(t.metrics)).toContain("hazri_ingest_duplicates_total 3\n");
    // A pure replay: no write at all, still acked.
    t.ingest.handleMessage(up, batch([door(2)]));
    await vi.advanceTimersByTimeAsync(10);
    expect(t.writes).toHaveLength(2);
    expect(t.acks[2]?.acked).toEqual([[2, 2]]);
  });

  it("same seq under a new boot id (wiped outbox) is NOT a duplicate", async () => {
    const t = setup();
    t.ingest.handleMessage(up, batch([door(1)]));
    await vi.advanceTimersByTimeAsync(10);
    t.ingest.handleMessage(up, batch([door(1, { bootId: "boot-new9" })]));
    await vi.advanceTimersByTimeAsync(10);
    expect(t.writes).toHaveLength(2);
    expect(t.metrics.duplicates).toBe(0);
  });

  it("re-sends while the write is in flight are dropped (one write, one ack); after a failed write they are written", async () => {
    const t = setup();
    t.hold();
    t.ingest.handleMessage(up, batch([door(1), door(2)]));
    await vi.advanceTimersByTimeAsync(10);
    t.ingest.handleMessage(up, batch([door(1), door(2)])); // edge resend timer fired
    t.ingest.handleMessage(up, batch([door(2), door(2)])); // and a batch repeating itself
    expect(t.metrics.duplicates).toBe(4);
    expect(t.metrics.pendingEvents).toBe(2);
    t.setFail(true);
    t.release();
    await t.ingest.drain();
    expect(t.acks).toEqual([]);
    t.setFail(false);
    t.ingest.handleMessage(up, batch([door(1), door(2)]));
    await vi.advanceTimersByTimeAsync(10);
    expect(t.writes.map((w) => w.length)).toEqual([2, 2]);
    expect(t.acks.map((a) => a.acked)).toEqual([[[1, 2]]]);
  });

  it("far-future and synced-before-2020 events are rejected with MQTT_EVENT_TIME; unsynced old clocks are kept", async () => {
    const t = setup();
    t.ingest.handleMessage(
      up,
      batch([
        door(1, { ts: NOW + MAX_FUTURE_MS + 1 }),
        door(2, { ts: NOW + MAX_FUTURE_MS - 1 }),
        door(3, { ts: Date.UTC(2019, 11, 31) }),
        door(4, { ts: 5_000, synced: false }), // no RTC after a power cut: 1970 + uptime
        door(5, { ts: NOW + MAX_FUTURE_MS + 1, synced: false }),
      ]),
    );
    await vi.advanceTimersByTimeAsync(10);
    expect(t.writes[0]).toHaveLength(2);
    expect(t.acks[0]?.acked).toEqual([[2, 2], [4, 4]]);
    expect(t.acks[0]?.rejected.map((r) => [r.seq, r.code])).toEqual([
      [1, "MQTT_EVENT_TIME"],
      [3, "MQTT_EVENT_TIME"],
      [5, "MQTT_EVENT_TIME"],
    ]);
    expect(t.metrics.rejected.MQTT_EVENT_TIME).toBe(3);
  });

  it("unknown or disabled center (registry on): refused, counted, nothing written or acked", async () => {
    const t = setup({ active: (id) => id === "khi-1" });
    t.ingest.handleMessage(up, batch([door(1)]));
    await vi.advanceTimersByTimeAsync(10);
    expect(t.writes).toEqual([]);
    expect(t.acks).toEqual([]);
    expect(t.metrics.rejected.MQTT_UNKNOWN_CENTER).toBe(1);
  });

  it("status and time messages of an unknown or disabled center are refused like its events (MQTT_UNKNOWN_CENTER)", async () => {
    const live = createLiveState();
    const metrics = createMetrics();
    const replies: unknown[] = [];
    const ingest = createIngest({
      influx: { writeLines: async () => {} },
      publishAck: async () => {},
      publishTimeReply: async (_c, r) => void replies.push(r),
      live,
      logger: silentLogger,
      clock,
      metrics,
      centers: { isActive: (id) => id === "khi-1" },
    });
    const status = (centerId: string) => Buffer.from(JSON.stringify({ v: 1, centerId, state: "online", bootId: "boot-abc1", ts: 5 }));
    const time = (centerId: string) => Buffer.from(JSON.stringify({ v: 1, centerId, edgeTime: 42 }));
    ingest.handleMessage(topics.up(CENTER, "status"), status(CENTER));
    ingest.handleMessage(topics.up(CENTER, "time"), time(CENTER));
    ingest.handleMessage(topics.up(CENTER, "status"), Buffer.alloc(0)); // clearing a retained status: not a message
    ingest.handleMessage(topics.up("khi-1", "status"), status("khi-1"));
    ingest.handleMessage(topics.up("khi-1", "time"), time("khi-1"));
    await vi.advanceTimersByTimeAsync(1);
    expect(metrics.rejected.MQTT_UNKNOWN_CENTER).toBe(2);
    expect(live.center(CENTER)).toBeNull();
    expect(live.center("khi-1")?.edge?.online).toBe(true);
    expect(replies).toEqual([{ v: 1, centerId: "khi-1", edgeTime: 42, serverTime: NOW }]);
  });
});
