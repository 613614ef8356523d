import mqtt, { type MqttClient } from "mqtt";
import type net from "node:net";
import type { Logger } from "../../../protocol/clock.ts";
import { AckMessage, EdgeStatus, TimeReply, expandRanges, type SeqRange } from "../../../protocol/messages.ts";
import { SCHEMA_VERSION, type EventDraft } from "../../../protocol/events.ts";
import { topics } from "../../../protocol/topics.ts";
import type { Outbox } from "../outbox/outbox.ts";
import type { SettableClock } from "./settable-clock.ts";
import { createUplinkLedger } from "../ledger/uplink-ledger.ts";
import { createReplayTracker, type ReplayProgress } from "./replay.ts";

/**
 * Uplink to the central broker (durability rule): publish outbox entries in
 * order, in batches, QoS 1; trim the outbox ONLY on the server's application
 * ack (`down/ack`, sent after InfluxDB confirmed), never on PUBACK — a PUBACK
 * only means the broker has it (MQTT 3.1.1 §4.3.2), not the sink.
 *
 * - Persistent session (`clean: false`, MQTT 3.1.1 §3.1.2.4) with a stable
 *   clientId so acks published while we were away are queued for us.
 * - Last Will = retained offline EdgeStatus on up/status (§3.1.2.5–7).
 * - On every CONNACK the in-flight window is forgotten and the outbox's
 *   sent_at cleared: with sessionPresent=0 (§3.2.2.2) the broker lost our
 *   session and nothing in flight will be acked; with sessionPresent=1 a
 *   re-send costs a duplicate the sink overwrites (point key = f(event)).
 * - `sent_at` uses the monotonic clock: it only has to order resends within
 *   this process, and the wall clock may jump when it is synced.
 * - The door path never waits here: `kick()` only schedules the pump, and the
 *   pump sends ONE batch per event-loop turn (setImmediate), so a serial frame
 *   arriving during a 50,000-event replay is handled between two batches. A
 *   batch is spliced from the stored JSON text (no parse + re-stringify).
 * - Time correction (edge issue 3, decided: at the edge, once, before first send): after a CONNACK
 *   with an unsynced clock, this boot's rows (seq >= outbox.bootFirstSeq) are held back until the
 *   time reply (at most `timeSyncWaitMs`); then its never-sent `synced: false` rows are rewritten
 *   durably with ts = trueNow − (monoNow − e.mono) and `tsCorrected: true` (outbox.correctUnsynced,
 *   in chunks between event-loop turns), and only then sent. Earlier boots' rows are not held (their
 *   seqs are lower, so order is kept) and cannot be corrected: their mono belongs to a dead process.
 *   A row sent once is never rewritten (a second ts would be a second InfluxDB point).
 * - Downlink `down/members` is handed to `onMembers` (the member cache
 *   verifies it); `requestFullCache()` re-publishes the online status with
 *   `wantFullCache` (protocol/messages.ts EdgeStatus).
 */
export interface UplinkOptions {
  url: string;
  username?: string;
  password?: string;
  centerId: string;
  bootId: string;
  outbox: Outbox;
  clock: SettableClock;
  logger: Logger;
  batchSize: number;
  resendAfterMs: number;
  window?: number;
  /**
   * Share of the event loop a backlog replay may take (0.05 ≤ share ≤ 1, default 0.15). The outbox work of a
   * replay (read a batch, mark it sent, delete acked rows: synchronous SQLite) shares the thread with the
   * door path, and every hop of a tap (pty readable → read → decide → relay write) waits for the task in
   * progress; back to back, a replay made taps wait ~20 ms at p50. After each unit of replay work of c ms
   * the next batch waits c × (1 − share) / share, so the door path always finds the loop free part of
   * the time. Outside a replay batches go out as fast as the window allows.
   */
  replayShare?: number;
  keepaliveS?: number;
  reconnectPeriodMs?: number;
  /** After a CONNACK with an unsynced clock, hold this boot's events back this long for the time reply (default 5000; 0 = never hold). */
  timeSyncWaitMs?: number;
  /** Where uplink/clock events go (default: outbox.append). The agent passes its record(). */
  record?: (d: EventDraft) => void;
  /** A `down/members` message (signed member cache). */
  onMembers?: (payload: Buffer) => void;
  /** The server acked something: it is alive (member cache staleness). */
  onServerAck?: () => void;
  /** A backlog replay began (true) or ended (false); see replay.ts. */
  onReplayChange?: (active: boolean) => void;
  /** Fields for the online status (member cache version). */
  statusExtra?: () => { cacheVersion: number | null };
}

export interface UplinkCounters {
  published: number;
  acked: number;
  rejected: number;
  badDownlink: number;
  connects: number;
  /** Acks naming another outbox (a wiped predecessor's), ignored. */
  foreignAcks: number;
}

export interface Uplink {
  start(): void;
  stop(): Promise<void>;
  state(): "up" | "down";
  lastRttMs(): number | null;
  /** Call after appending to the outbox so new events leave soon (deferred, never blocks the caller). */
  kick(): void;
  replay(): ReplayProgress;
  /** Ask the server for a full member cache (throttled to one request per 10 s). */
  requestFullCache(): void;
  readonly counters: UplinkCounters;
}

interface Inflight {
  seqs: Set<number>;
  sentMono: number;
}

export function createUplink(o: UplinkOptions): Uplink {
  const log = o.logger.child({ ns: "edge:mqtt" });
  const windowSize = o.window ?? 4;
  const counters: UplinkCounters = { published: 0, acked: 0, rejected: 0, badDownlink: 0, connects: 0, foreignAcks: 0 };
  const eventsTopic = topics.up(o.centerId, "events");
  const statusTopic = topics.up(o.centerId, "status");
  const ackTopic = topics.down(o.centerId, "ack");
  const timeTopic = topics.down(o.centerId, "time");
  const membersTopic = topics.down(o.centerId, "members");
  const record = o.record ?? ((d: EventDraft) => void o.outbox.append(d));
  const ledger = createUplinkLedger({ clock: o.clock, record: (d) => safe(() => record(d), "cannot record uplink event") });
  const replay = createReplayTracker({
    threshold: o.batchSize * windowSize,
    logger: log,
    onChange: (active) => safe(() => o.onReplayChange?.(active), "replay change hook failed"),
  });
  let pumpScheduled = false;
  let lastFullRequest = -Infinity;
  let client: MqttClient | null = null;
  let connected = false;
  let rtt: number | null = null;
  let inflight: Inflight[] = [];
  let resendTimer: NodeJS.Timeout | null = null;
  let pumping = false;
  let stopped = false;
  const share = Math.min(1, Math.max(0.05, o.replayShare ?? 0.15));
  /** Mono ms before which the next replay batch may not start (see replayShare). */
  let nextPumpAt = 0;
  const spent = (startMono: number) => {
    if (share >= 1 || !replay.progress(0).active) return;
    const end = o.clock.mono();
    nextPumpAt = Math.max(nextPumpAt, end) + ((end - startMono) * (1 - share)) / share;
  };
  // Time correction hold (see header): waiting for the reply, or rewriting rows after it.
  let waitingForTime = false;
  let correcting = false;
  let holdTimer: NodeJS.Timeout | null = null;
  const holdBelow = (): number | undefined => (waitingForTime || correcting ? o.outbox.bootFirstSeq : undefined);

  function safe(fn: () => void, what: string): void {
    try {
      fn();
    } catch (e) {
      log.error({ err: e }, what);
    }
  }

  const status = (state: "online" | "offline", wantFullCache = false) =>
    JSON.stringify(
      EdgeStatus.parse({
        v: SCHEMA_VERSION,
        centerId: o.centerId,
        state,
        bootId: o.bootId,
        ts: Math.round(o.clock.now()),
        ...(state === "online" && o.statusExtra ? o.statusExtra() : {}),
        ...(wantFullCache ? { wantFullCache: true } : {}),
      }),
    );

  function schedulePump(): void {
    if (pumpScheduled) return;
    pumpScheduled = true;
    const run = () => {
      pumpScheduled = false;
      pump();
    };
    const wait = nextPumpAt - o.clock.mono();
    if (wait > 0) setTimeout(run, Math.ceil(wait));
    else setImmediate(run);
  }

  /** Sends at most one batch; schedules itself again while the window has room. */
  function pump(): void {
    if (!connected || !client || pumping) return;
    pumping = true;
    const t0 = o.clock.mono();
    let again = false;
    try {
      const now = t0;
      // A batch un-acked for resendAfterMs no longer holds a window slot; its
      // events come back from nextBatch because their sent_at is old.
      inflight = inflight.filter((b) => b.seqs.size > 0 && now - b.sentMono < o.resendAfterMs);
      if (inflight.length >= windowSize) return;
      const belowSeq = holdBelow();
      const { seqs, payloads } = o.outbox.nextBatchRaw(o.batchSize, { now, resendAfterMs: o.resendAfterMs, ...(belowSeq !== undefined ? { belowSeq } : {}) });
      if (seqs.length === 0) return;
      o.outbox.markSent(seqs, now);
      inflight.push({ seqs: new Set(seqs), sentMono: now });
      // Stored payloads are validated HazriEvent JSON (outbox.append parses before storing).
      const head = JSON.stringify({ v: SCHEMA_VERSION, centerId: o.centerId, bootId: o.bootId, sentAt: Math.round(o.clock.now()), outboxId: o.outbox.id });
      const payload = `${head.slice(0, -1)},"events":[${payloads.join(",")}]}`;
      counters.published += seqs.length;
      client.publish(eventsTopic, payload, { qos: 1 }, (err) => {
        if (err) log.warn({ err: err.message, n: seqs.length }, "batch publish failed; will resend");
      });
      again = inflight.length < windowSize;
    } catch (e) {
      log.error({ err: e }, "pump failed");
    } finally {
      pumping = false;
      spent(t0);
    }
    if (again) schedulePump(); // after spent(): the replay share applies to this batch's cost
  }

  function onAck(msg: AckMessage): void {
    if (msg.outboxId !== undefined && msg.outboxId !== o.outbox.id) {
      // An ack for another outbox of this center (one that was wiped and replaced): its seqs name other
      // events than ours, so trimming by them would lose events. Nothing of ours is acked by it.
      counters.foreignAcks++;
      log.warn({ outboxId: msg.outboxId, ours: o.outbox.id }, "ack for another outbox ignored");
      return;
    }
    const now = o.clock.mono();
    const done = new Set<number>([...expandRanges(msg.acked), ...msg.rejected.map((r) => r.seq)]);
    for (const b of inflight) {
      const before = b.seqs.size;
      for (const s of done) b.seqs.delete(s);
      if (before > 0 && b.seqs.size === 0) rtt = now - b.sentMono;
    }
    inflight = inflight.filter((b) => b.seqs.size > 0);
    let n = o.outbox.ack(msg.acked as SeqRange[]);
    counters.acked += n;
    if (msg.rejected.length) {
      const r = o.outbox.reject(msg.rejected);
      counters.rejected += r;
      n += r;
      log.warn({ rejected: msg.rejected.slice(0, 5) }, "server rejected events; moved to dead_letter");
    }
    replay.onAck(n, o.outbox.depth(), now);
    spent(now);
    o.onServerAck?.();
    schedulePump();
  }

  function onMessage(topic: string, payload: Buffer): void {
    if (topic === membersTopic) {
      // The member cache parses and verifies (signature) itself and never throws.
      safe(() => o.onMembers?.(payload), "member cache handler failed");
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch {
      counters.badDownlink++;
      log.warn({ topic }, "downlink payload is not JSON (MQTT_PAYLOAD_JSON)");
      return;
    }
    if (topic === ackTopic) {
      const r = AckMessage.safeParse(json);
      if (!r.success || r.data.centerId !== o.centerId) {
        counters.badDownlink++;
        log.warn({ topic, issues: r.success ? "centerId mismatch" : r.error.issues.slice(0, 3) }, "bad ack (MQTT_PAYLOAD_SCHEMA)");
        return;
      }
      onAck(r.data);
    } else if (topic === timeTopic) {
      const r = TimeReply.safeParse(json);
      if (!r.success || r.data.centerId !== o.centerId) {
        counters.badDownlink++;
        log.warn({ topic }, "bad time reply (MQTT_PAYLOAD_SCHEMA)");
        return;
      }
      const rttMs = Math.max(0, o.clock.now() - r.data.edgeTime);
      const wasSynced = o.clock.synced();
      o.clock.adopt(r.data.serverTime, rttMs);
      log.info({ offsetMs: o.clock.offsetMs(), rttMs, synced: o.clock.synced() }, "time reply");
      if (!wasSynced && o.clock.synced()) {
        // Every row up to here was taken unsynced; the clock event (synced) comes after them.
        const upTo = o.outbox.lastSeq();
        safe(() => record({ type: "clock", offsetMs: o.clock.offsetMs(), rttMs }), "cannot record clock event");
        correctTimes(upTo);
      }
    }
  }

  /** Rewrite this boot's unsynced, never-sent rows in chunks (the door path runs between them), then release the hold. */
  function correctTimes(upTo: number): void {
    waitingForTime = false;
    if (holdTimer) clearTimeout(holdTimer);
    holdTimer = null;
    correcting = true;
    const wallMinusMono = o.clock.now() - o.clock.mono();
    const t0 = o.clock.mono();
    let from = o.outbox.bootFirstSeq;
    let corrected = 0;
    let skipped = 0;
    const step = () => {
      if (stopped) return;
      try {
        const r = o.outbox.correctUnsynced({ fromSeq: from, toSeq: upTo, wallMinusMono, limit: 1000 });
        corrected += r.corrected;
        skipped += r.skipped;
        from = r.nextSeq;
        if (!r.done) {
          setImmediate(step);
          return;
        }
      } catch (e) {
        log.error({ err: e, from, upTo }, "time correction failed; the remaining events keep their unsynced times");
      }
      correcting = false;
      log.info({ corrected, skipped, fromSeq: o.outbox.bootFirstSeq, toSeq: upTo, ms: Math.round(o.clock.mono() - t0) }, "times of events taken unsynced corrected");
      schedulePump();
    };
    step();
  }

  return {
    counters,
    state: () => (connected ? "up" : "down"),
    lastRttMs: () => rtt,
    kick: () => schedulePump(),
    replay: () => replay.progress(o.outbox.depth()),
    requestFullCache() {
      const now = o.clock.mono();
      if (!connected || !client || now - lastFullRequest < 10_000) return;
      lastFullRequest = now;
      log.info({}, "asking the server for a full member cache");
      client.publish(statusTopic, status("online", true), { qos: 1, retain: true });
    },
    start() {
      const c = mqtt.connect(o.url, {
        clientId: `edge-${o.centerId}`,
        clean: false,
        keepalive: o.keepaliveS ?? 15,
        reconnectPeriod: o.reconnectPeriodMs ?? 1000,
        connectTimeout: 5000,
        protocolVersion: 4,
        ...(o.username !== undefined ? { username: o.username } : {}),
        ...(o.password !== undefined ? { password: o.password } : {}),
        will: { topic: statusTopic, payload: Buffer.from(status("offline")), qos: 1, retain: true },
      });
      client = c;
      c.on("connect", (connack) => {
        (c.stream as net.Socket).setNoDelay?.(true); // Nagle off: p50 21 ms → 0.3 ms
        connected = true;
        counters.connects++;
        log.info({ sessionPresent: connack.sessionPresent }, "uplink connected");
        // Resubscribe always (cheap, idempotent); required when sessionPresent=0.
        const subs: Record<string, { qos: 1 }> = { [ackTopic]: { qos: 1 }, [timeTopic]: { qos: 1 } };
        if (o.onMembers) subs[membersTopic] = { qos: 1 };
        c.subscribe(subs, (err) => {
          if (err) log.warn({ err: err.message }, "subscribe failed");
        });
        inflight = [];
        o.outbox.resetInflight();
        const waitMs = o.timeSyncWaitMs ?? 5000;
        if (!o.clock.synced() && !correcting && waitMs > 0) {
          waitingForTime = true;
          if (holdTimer) clearTimeout(holdTimer);
          holdTimer = setTimeout(() => {
            holdTimer = null;
            if (!waitingForTime) return;
            waitingForTime = false;
            log.warn({ waitMs }, "no time reply in time: sending this boot's events with their unsynced times");
            schedulePump();
          }, waitMs);
        }
        c.publish(statusTopic, status("online"), { qos: 1, retain: true });
        c.publish(topics.up(o.centerId, "time"), JSON.stringify({ v: SCHEMA_VERSION, centerId: o.centerId, edgeTime: Math.round(o.clock.now()) }), { qos: 1 });
        ledger.up();
        replay.onConnect(o.outbox.depth(), o.clock.mono());
        schedulePump();
      });
      c.on("packetreceive", () => ledger.contact());
      c.on("close", () => {
        if (connected) log.warn({}, "uplink down");
        connected = false;
        // A graceful stop is not an internet outage: do not put one in the ledger.
        if (client === c) ledger.down();
      });
      c.on("error", (err) => log.warn({ err: err.message }, "uplink error"));
      c.on("message", onMessage);
      resendTimer = setInterval(schedulePump, Math.max(50, Math.floor(o.resendAfterMs / 4)));
    },
    async stop() {
      stopped = true;
      if (holdTimer) clearTimeout(holdTimer);
      holdTimer = null;
      if (resendTimer) clearInterval(resendTimer);
      resendTimer = null;
      const c = client;
      client = null;
      connected = false;
      if (c) {
        // Graceful: announce offline ourselves (a clean DISCONNECT suppresses the will, §3.1.2.5).
        if (c.connected) await new Promise<void>((r) => c.publish(statusTopic, status("offline"), { qos: 1, retain: true }, () => r()));
        await c.endAsync();
      }
    },
  };
}
