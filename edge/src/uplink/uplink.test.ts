import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type net from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { openOutbox, type Outbox } from "../outbox/outbox.ts";
import { createUplink, type Uplink } from "./uplink.ts";
import { createSettableClock } from "./settable-clock.ts";
import { startTestBroker, until } from "./test-broker.ts";
import { silentLogger, systemClock } from "../../../protocol/clock.ts";
import { topics } from "../../../protocol/topics.ts";
import { UplinkBatch, toRanges } from "../../../protocol/messages.ts";
import type { HazriEvent } from "../../../protocol/events.ts";

const C = "lhr-01";
let dir: string;
let broker: Awaited<ReturnType<typeof startTestBroker>>;
let server: MqttClient;
let outbox: Outbox;
let uplink: Uplink | null;
let received: HazriEvent[][];
let ackMode: "ack" | "drop" | "reject-first" | "foreign";
let batchOutboxIds: (string | undefined)[];

const clock = createSettableClock(systemClock, { trusted: false });
const newOutbox = () => openOutbox({ path: path.join(dir, "outbox.sqlite"), centerId: C, bootId: "boot-test", clock, synced: clock.synced });
const newUplink = (resendAfterMs = 10_000) =>
  createUplink({ url: broker.url, centerId: C, bootId: "boot-test", outbox, clock, logger: silentLogger, batchSize: 7, resendAfterMs, window: 2, reconnectPeriodMs: 100 });

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "hazri-uplink-"));
  broker = await startTestBroker();
  received = [];
  batchOutboxIds = [];
  ackMode = "ack";
  // A fake "server": parses each batch and acks (the real one writes InfluxDB first).
  server = await mqtt.connectAsync(broker.url, { clientId: "fake-server", clean: true });
  (server.stream as net.Socket).setNoDelay?.(true);
  await server.subscribeAsync({ [topics.allUp("events")]: { qos: 1 }, [topics.allUp("time")]: { qos: 1 } });
  server.on("message", (topic, payload) => {
    const body = JSON.parse(payload.toString());
    if (topic === topics.up(C, "time")) {
      server.publish(topics.down(C, "time"), JSON.stringify({ v: 1, centerId: C, edgeTime: body.edgeTime, serverTime: 2_000_000_000_000 }), { qos: 1 });
      return;
    }
    const batch = UplinkBatch.parse(body);
    const events = batch.events as HazriEvent[];
    received.push(events);
    batchOutboxIds.push(batch.outboxId);
    if (ackMode === "drop") return;
    if (ackMode === "foreign") {
      // A late ack for a wiped predecessor outbox of this center: same seqs, another outbox id.
      const acked = toRanges(events.map((e) => e.seq));
      server.publish(topics.down(C, "ack"), JSON.stringify({ v: 1, centerId: C, acked, rejected: [], serverTime: Date.now(), outboxId: "wiped-outbox-0001" }), { qos: 1 });
      return;
    }
    let seqs = events.map((e) => e.seq);
    const rejected = ackMode === "reject-first" && seqs[0] === 1 ? [{ seq: 1, code: "SCHEMA", reason: "test" }] : [];
    seqs = seqs.filter((s) => !rejected.some((r) => r.seq === s));
    server.publish(topics.down(C, "ack"), JSON.stringify({ v: 1, centerId: C, acked: toRanges(seqs), rejected, serverTime: Date.now() }), { qos: 1 });
  });
  outbox = newOutbox();
  uplink = null;
});

afterEach(async () => {
  await uplink?.stop();
  await server.endAsync();
  await broker.close();
  outbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const appendN = (n: number) => outbox.appendMany(Array.from({ length: n }, () => ({ type: "uplink" as const, state: "up" as const })));

describe("uplink against an aedes central broker", () => {
  it("50 events go out in order in batches, acks trim the outbox to 0; records uplink up; syncs the clock", async () => {
    appendN(50);
    uplink = newUplink();
    uplink.start();
    await until(() => outbox.depth() === 0 && uplink!.state() === "up" && received.flat().some((e) => e.type === "clock"), "outbox drained");
    const seqs = received.flat().map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // 50 + the uplink "up" event recorded on connect + the clock event recorded when server time was adopted
    expect(new Set(seqs).size).toBe(52);
    expect(received.flat().find((e) => e.type === "clock")).toMatchObject({ type: "clock", synced: true });
    expect(received.flat().filter((e) => e.type === "uplink" && e.cause === "connack")).toHaveLength(1);
    expect(Math.max(...received.map((b) => b.length))).toBeLessThanOrEqual(7);
    expect(received.flat().some((e) => e.type === "uplink" && e.seq === 51)).toBe(true);
    expect(uplink.lastRttMs()).not.toBeNull();
    await until(() => clock.synced(), "time reply adopted");
    expect(Math.abs(clock.now() - 2_000_000_000_000)).toBeLessThan(5000);
  });

  it("un-acked events are re-sent after a restart of the uplink (crash before ack)", async () => {
    ackMode = "drop";
    appendN(10);
    uplink = newUplink();
    uplink.start();
    await until(() => received.flat().length >= 11, "first send");
    await uplink.stop();
    outbox.close();
    expect(received.flat().length).toBe(11);
    // restart: new process state, same outbox file
    outbox = newOutbox();
    expect(outbox.depth()).toBeGreaterThanOrEqual(11);
    outbox.resetInflight();
    ackMode = "ack";
    uplink = newUplink();
    uplink.start();
    await until(() => outbox.depth() === 0, "drained after restart");
    const counts = new Map<number, number>();
    for (const e of received.flat()) counts.set(e.seq, (counts.get(e.seq) ?? 0) + 1);
    for (let s = 1; s <= 10; s++) expect(counts.get(s)).toBeGreaterThanOrEqual(2);
  });

  it("re-sends after resendAfterMs without a reconnect", async () => {
    ackMode = "drop";
    appendN(3);
    uplink = newUplink(200);
    uplink.start();
    await until(() => received.flat().filter((e) => e.seq === 1).length >= 2, "resend of seq 1");
    ackMode = "ack";
    await until(() => outbox.depth() === 0, "drained");
  });

  it("rejected events go to dead_letter; a bad downlink payload is counted, never a crash", async () => {
    ackMode = "reject-first";
    appendN(5);
    uplink = newUplink();
    uplink.start();
    await until(() => outbox.depth() === 0, "drained");
    expect(outbox.deadLetterCount()).toBe(1);
    expect(uplink.counters.rejected).toBe(1);
    server.publish(topics.down(C, "ack"), "not json{", { qos: 1 });
    server.publish(topics.down(C, "ack"), JSON.stringify({ v: 1, centerId: C, acked: [[5, 1]] }), { qos: 1 });
    server.publish(topics.down(C, "ack"), JSON.stringify({ v: 1, centerId: "other", acked: [], rejected: [], serverTime: 1 }), { qos: 1 });
    await until(() => uplink!.counters.badDownlink === 3, "3 bad downlinks counted");
    appendN(1);
    uplink.kick();
    await until(() => outbox.depth() === 0, "still working");
  });
  it("batches carry the outbox id; an ack naming another outbox trims nothing, one naming ours (or none) does", async () => {
    appendN(5);
    ackMode = "foreign";
    uplink = newUplink(300);
    uplink.start();
    // Re-sent after resendAfterMs because the foreign acks did not count: at least two rounds seen.
    await until(() => received.length >= 2 && uplink!.counters.foreignAcks >= 2, "re-sends after foreign acks");
    expect(outbox.depth()).toBeGreaterThanOrEqual(5);
    expect(new Set(batchOutboxIds)).toEqual(new Set([outbox.id]));
    expect(outbox.id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    ackMode = "ack"; // the fake server's own acks carry no outboxId (an older server): accepted
    await until(() => outbox.depth() === 0, "drained by acks without an outbox id");
  });

  it("a replay takes at most replayShare of the loop: after c ms of batch work the next batch waits ≥ c × (1 − share) / share", async () => {
    // Make each batch read cost ~3 ms (the real cost at a 1 M-row backlog is a few ms of synchronous SQLite).
    const calls: { start: number; end: number }[] = [];
    const real = outbox;
    const slow: Outbox = Object.assign(Object.create(real) as Outbox, {
      nextBatchRaw: (...a: Parameters<Outbox["nextBatchRaw"]>) => {
        const start = performance.now();
        const r = real.nextBatchRaw(...a);
        while (performance.now() - start < 3);
        calls.push({ start, end: performance.now() });
        return r;
      },
    });
    appendN(200); // > batchSize × window: a replay
    uplink = createUplink({ url: broker.url, centerId: C, bootId: "boot-test", outbox: slow, clock, logger: silentLogger, batchSize: 7, resendAfterMs: 10_000, window: 2, reconnectPeriodMs: 100, replayShare: 0.25 });
    uplink.start();
    await until(() => real.depth() === 0, "drained", 20_000);
    expect(calls.length).toBeGreaterThan(12);
    // The first 10 reads are all inside the replay (200 events, 7 per batch). Timers fire no earlier than
    // asked (1 ms slack for libuv's cached loop time), so this lower bound holds however loaded the box is.
    for (let k = 0; k < 10; k++) {
      const a = calls[k]!;
      const b = calls[k + 1]!;
      expect(b.start - a.end, `gap after read ${k}`).toBeGreaterThanOrEqual(3 * (a.end - a.start) - 1);
    }
  });
});
