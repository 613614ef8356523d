import { HazriEvent } from "../../../protocol/events.ts";
import type { HazriEvent as HazriEventT } from "../../../protocol/events.ts";
import {
  AckMessage,
  EdgeStatus,
  MAX_PAYLOAD_BYTES,
  TimeRequest,
  UplinkBatch,
  toRanges,
} from "../../../protocol/messages.ts";
import type { AckMessage as AckMessageT, TimeReply } from "../../../protocol/messages.ts";
import { parseTopic } from "../../../protocol/topics.ts";
import { eventToLine } from "../../../protocol/influx.ts";
import type { ErrorCode } from "../../../protocol/errors.ts";
import type { Clock, Logger } from "../../../protocol/clock.ts";
import type { InfluxAdapter } from "../influx/adapter.ts";
import type { LiveState } from "../live/state.ts";
import { countRejected, observeWriteLatency } from "../metrics.ts";
import type { Metrics } from "../metrics.ts";
import { createSeqWindow } from "./dedupe.ts";

/**
 * MQTT → InfluxDB ingest with application-level acks (the durability rule):
 * an edge may trim its outbox only for seqs named in an AckMessage, and we
 * publish that ack only after InfluxDB answered 204 for the write that holds
 * them. Anything we cannot store right now is simply not acked — the edge
 * keeps it and re-sends, and the point key makes the re-send overwrite.
 */

export interface IngestOptions {
  /** How long accepted events wait to share one InfluxDB write (default 20 ms). */
  maxBatchDelayMs?: number;
  /** Queued + in-flight events above which new batches are dropped un-acked (default 20 000). */
  maxPendingEvents?: number;
  /** Most events in one InfluxDB write (default 5 000); whole messages are never split. */
  maxWriteEvents?: number;
  /**
   * InfluxDB writes in flight at once (default 2; the adapter needs as many lanes). Safe because an event
   * is never in two writes at once (pending keys) and a point written twice is the same point.
   */
  writeConcurrency?: number;
  /** Streams (center/boot) remembered for on-wire dedupe (default 20 000). */
  dedupeStreams?: number;
}

/** Events stamped more than this after server time are refused (MQTT_EVENT_TIME). */
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;
/** A synced clock never reads before this (2020-01-01T00:00:00Z): such a ts is a bug, not a time. */
export const MIN_SYNCED_TS = Date.UTC(2020, 0, 1);

/** Why an event's time is implausible, or null. Unsynced clocks may be anywhere in the past (no RTC, §0.7). */
export function eventTimeProblem(e: { ts: number; synced: boolean }, serverNow: number): string | null {
  if (e.ts > serverNow + MAX_FUTURE_MS) return `ts ${new Date(e.ts).toISOString()} is more than 1 day after server time`;
  if (e.synced && e.ts < MIN_SYNCED_TS) return `ts ${e.ts} is before 2020 although synced`;
  return null;
}

export interface IngestDeps {
  influx: Pick<InfluxAdapter, "writeLines">;
  publishAck: (centerId: string, ack: AckMessageT) => Promise<void>;
  /** Reply to `up/time` on `down/time`; optional (no reply when absent). */
  publishTimeReply?: (centerId: string, reply: TimeReply) => Promise<void>;
  live: LiveState;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  opts?: IngestOptions;
  /** When set (broker auth on), batches of centers not active in the registry are refused. */
  centers?: { isActive(centerId: string): boolean };
  /**
   * Called with the events of every write InfluxDB acknowledged (before the acks go out): the SLA cache
   * drops the closed days late data touched (server/src/sla/cache.ts). Must not throw; errors are logged.
   */
  onStored?: (events: readonly HazriEventT[]) => void;
  /**
   * When set and false (the database is not known to exist yet, InfluxDB down at start), accepted
   * events wait in the bounded queue un-acked instead of being written; call `kick()` once it turns true.
   */
  writable?: () => boolean;
}

export interface Ingest {
  handleMessage(topic: string, payload: Buffer): void;
  /** Start writing what waits (after `writable` turned true). */
  kick(): void;
  /** Resolves once the queue is empty and nothing is in flight (tests, shutdown). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

type Rejected = AckMessageT["rejected"][number];
interface Pending {
  centerId: string;
  /** The batch's outboxId, echoed in its ack (seqs are unique only within one outbox). */
  outboxId: string | undefined;
  events: HazriEventT[];
  lines: string[];
  rejected: Rejected[];
  /** Seqs already written moments ago: acked again, not re-written. */
  dupSeqs: number[];
  /** Dedupe keys `<center>/<boot>/<seq>` of `events`, pending until the write settles. */
  keys: string[];
}

const firstBytes = (p: Buffer) => JSON.stringify(p.subarray(0, 80).toString("utf8"));

function issuesText(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`)
    .join("; ")
    .slice(0, 480);
}

function readableSeq(raw: unknown): number | null {
  if (typeof raw !== "object" || raw === null) return null;
  const s = (raw as { seq?: unknown }).seq;
  return typeof s === "number" && Number.isSafeInteger(s) && s >= 1 ? s : null;
}

export function createIngest(deps: IngestDeps): Ingest {
  const { influx, live, clock, metrics } = deps;
  const log = deps.logger.child({ component: "ingest" });
  const delayMs = deps.opts?.maxBatchDelayMs ?? 20;
  const maxPending = deps.opts?.maxPendingEvents ?? 20_000;
  const maxWrite = Math.max(1, deps.opts?.maxWriteEvents ?? 5_000);
  const maxWriting = Math.max(1, deps.opts?.writeConcurrency ?? 2);

  let queue: Pending[] = [];
  let queuedEvents = 0;
  let inFlightEvents = 0;
  /** Writes in flight (≤ maxWriting). */
  let writing = 0;
  const acking = new Set<Promise<void>>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;
  const idleWaiters: Array<() => void> = [];
  const written = createSeqWindow({ maxStreams: deps.opts?.dedupeStreams ?? 20_000 });
  const pendingKeys = new Set<string>();

  const updateGauge = () => {
    metrics.pendingEvents = queuedEvents + inFlightEvents;
  };

  function refuse(topic: string, payload: Buffer, code: ErrorCode, reason: string): void {
    countRejected(metrics, code);
    log.warn({ topic, code, reason, firstBytes: firstBytes(payload), bytes: payload.length }, "message refused");
  }

  function schedule(): void {
    if (writing >= maxWriting || timer || queue.length === 0 || !writable()) return;
    if (queuedEvents >= maxWrite || closed) {
      startWrite();
      schedule(); // a full write's worth left and a lane free: that one too (or its timer)
      return;
    }
    timer = setTimeout(() => {
      timer = null;
      startWrite();
    }, delayMs);
  }

  const writable = () => deps.writable?.() ?? true;

  function startWrite(): void {
    if (writing >= maxWriting || queue.length === 0 || !writable()) return;
    const take: Pending[] = [];
    let n = 0;
    while (queue.length > 0 && (take.length === 0 || n + (queue[0] as Pending).events.length <= maxWrite)) {
      const p = queue.shift() as Pending;
      take.push(p);
      n += p.events.length;
    }
    queuedEvents -= n;
    inFlightEvents += n;
    writing++;
    updateGauge();
    void store(take)
      .then((stored) => {
        if (!stored) return;
        // The acks (a QoS 1 round trip each) and the live state follow the write without holding the write
        // slot: the next write starts as soon as InfluxDB answered this one (≈ a quarter of the ingest
        // time went to that gap). Order between batches does not matter to either (acks name seqs; the
        // live reducer is order-independent).
        const after = ackAndApply(take).finally(() => {
          acking.delete(after);
          notifyIdle();
        });
        acking.add(after);
      })
      .finally(() => {
        for (const p of take) for (const k of p.keys) pendingKeys.delete(k);
        writing--;
        inFlightEvents -= n;
        updateGauge();
        if (queue.length > 0 && writable()) schedule();
        else notifyIdle(); // empty, or nothing writable now (the edges keep it)
      });
  }

  /** Idle = no write in flight, nothing writable waiting, every ack of a stored write sent. */
  function notifyIdle(): void {
    if (writing > 0 || acking.size > 0 || (queue.length > 0 && writable())) return;
    for (const w of idleWaiters.splice(0)) w();
  }

  /** Write one batch; true once InfluxDB confirmed it (the dedupe window then knows its seqs). */
  async function store(batch: Pending[]): Promise<boolean> {
    const lines = batch.flatMap((p) => p.lines);
    const started = clock.mono();
    try {
      if (lines.length > 0) await influx.writeLines(lines);
    } catch (e) {
      metrics.writeFailures++;
      const events = batch.reduce((a, p) => a + p.events.length, 0);
      countRejected(metrics, "INGEST_INFLUX_WRITE", events);
      log.error(
        { err: e, code: (e as { code?: string }).code, events, centers: [...new Set(batch.map((p) => p.centerId))] },
        "InfluxDB write failed; not acking (edges keep and re-send)",
      );
      return false;
    }
    if (lines.length > 0) {
      metrics.writeBatches++;
      observeWriteLatency(metrics, clock.mono() - started);
    }
    if (deps.onStored && lines.length > 0) {
      try {
        deps.onStored(batch.flatMap((p) => p.events));
      } catch (e) {
        log.error({ err: e }, "onStored listener failed");
      }
    }
    for (const p of batch) {
      const byStream = new Map<string, number[]>();
      for (const e of p.events) {
        const k = `${e.centerId}/${e.bootId}`;
        const a = byStream.get(k);
        if (a) a.push(e.seq);
        else byStream.set(k, [e.seq]);
      }
      for (const [k, seqs] of byStream) written.add(k, seqs);
    }
    return true;
  }

  async function ackAndApply(batch: Pending[]): Promise<void> {
    // Stored: now, and only now, tell each edge which seqs it may trim.
    // One ack per (center, outbox): an edge whose outbox was replaced may have batches of both in flight.
    const perCenter = new Map<string, { centerId: string; outboxId: string | undefined; seqs: number[]; rejected: Rejected[] }>();
    for (const p of batch) {
      const k = `${p.centerId}\u0000${p.outboxId ?? ""}`;
      const c = perCenter.get(k) ?? { centerId: p.centerId, outboxId: p.outboxId, seqs: [], rejected: [] };
      for (const e of p.events) c.seqs.push(e.seq);
      c.seqs.push(...p.dupSeqs);
      c.rejected.push(...p.rejected);
      perCenter.set(k, c);
    }
    const serverTime = clock.now();
    await Promise.all(
      [...perCenter.values()].map(async (c) => {
        const centerId = c.centerId;
        const ack: AckMessageT = { v: 1, centerId, acked: toRanges(c.seqs), rejected: c.rejected, serverTime, ...(c.outboxId !== undefined ? { outboxId: c.outboxId } : {}) };
        try {
          await deps.publishAck(centerId, AckMessage.parse(ack));
          metrics.acksPublished++;
        } catch (e) {
          // The points are stored; a lost ack only means a re-send that overwrites them.
          metrics.ackPublishFailures++;
          log.warn({ err: e, centerId }, "ack publish failed; edge will re-send (idempotent)");
        }
      }),
    );
    for (const p of batch) {
      metrics.eventsIngested += p.events.length;
      for (const e of p.events) live.apply(e);
    }
  }

  function handleEvents(topic: string, centerId: string, payload: Buffer): void {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch (e) {
      return refuse(topic, payload, "MQTT_PAYLOAD_JSON", (e as Error).message);
    }
    const env = UplinkBatch.safeParse(json);
    if (!env.success) return refuse(topic, payload, "MQTT_PAYLOAD_SCHEMA", issuesText(env.error.issues));
    if (env.data.centerId !== centerId)
      return refuse(topic, payload, "MQTT_CENTER_MISMATCH", `envelope centerId ${env.data.centerId} on topic of ${centerId}`);

    if (inactive(centerId)) return refuseInactive(topic, payload, centerId);

    const p: Pending = { centerId, outboxId: env.data.outboxId, events: [], lines: [], rejected: [], dupSeqs: [], keys: [] };
    const now = clock.now();
    const batchKeys = new Set<string>();
    for (const raw of env.data.events) {
      const r = HazriEvent.safeParse(raw);
      let code: ErrorCode | null = null;
      let reason = "";
      if (!r.success) {
        code = "MQTT_PAYLOAD_SCHEMA";
        reason = issuesText(r.error.issues);
      } else if (r.data.centerId !== centerId) {
        code = "MQTT_CENTER_MISMATCH";
        reason = `event centerId ${r.data.centerId} in a batch of ${centerId}`;
      } else if ((reason = eventTimeProblem(r.data, now) ?? "") !== "") {
        code = "MQTT_EVENT_TIME";
      } else {
        const stream = `${centerId}/${r.data.bootId}`;
        if (written.has(stream, r.data.seq)) {
          // Replay of an event stored moments ago (the ack was lost or late): ack again, write nothing.
          metrics.duplicates++;
          p.dupSeqs.push(r.data.seq);
          continue;
        }
        const key = `${stream}/${r.data.seq}`;
        if (pendingKeys.has(key) || batchKeys.has(key)) {
          // Already queued or in flight: its own ack covers it; if that write fails, the edge re-sends.
          metrics.duplicates++;
          continue;
        }
        try {
          p.lines.push(eventToLine(r.data));
          p.events.push(r.data);
          p.keys.push(key);
          batchKeys.add(key);
          continue;
        } catch (e) {
          code = "MQTT_PAYLOAD_SCHEMA";
          reason = `not representable in line protocol: ${(e as Error).message}`;
        }
      }
      countRejected(metrics, code);
      const seq = readableSeq(raw);
      log.warn({ topic, code, seq, reason }, "event rejected");
      if (seq !== null) p.rejected.push({ seq, code, reason: reason.slice(0, 500) });
    }
    if (closed || queuedEvents + inFlightEvents + p.events.length > maxPending) {
      // Bounded memory: refuse without ack; the edge still holds these in its outbox.
      countRejected(metrics, "INGEST_BACKPRESSURE");
      log.warn({ topic, events: p.events.length, pending: queuedEvents + inFlightEvents }, "backpressure: batch dropped un-acked");
      return;
    }
    if (p.events.length === 0 && p.dupSeqs.length === 0 && p.rejected.length === 0) return; // only in-flight duplicates
    for (const k of p.keys) pendingKeys.add(k);
    queue.push(p);
    queuedEvents += p.events.length;
    updateGauge();
    schedule();
  }

  const inactive = (centerId: string) => deps.centers !== undefined && !deps.centers.isActive(centerId);
  const refuseInactive = (topic: string, payload: Buffer, centerId: string) =>
    refuse(topic, payload, "MQTT_UNKNOWN_CENTER", `center ${centerId} is not in the registry or is disabled`);

  function handleStatus(topic: string, centerId: string, payload: Buffer): void {
    if (payload.length === 0) return; // clearing a retained message (MQTT 3.1.1 §3.3.1.3)
    // A disabled center's retained status or Last Will must not bring it back into the live view.
    if (inactive(centerId)) return refuseInactive(topic, payload, centerId);
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch (e) {
      return refuse(topic, payload, "MQTT_PAYLOAD_JSON", (e as Error).message);
    }
    const s = EdgeStatus.safeParse(json);
    if (!s.success) return refuse(topic, payload, "MQTT_PAYLOAD_SCHEMA", issuesText(s.error.issues));
    if (s.data.centerId !== centerId) return refuse(topic, payload, "MQTT_CENTER_MISMATCH", "status of another center");
    live.setEdgeStatus(s.data);
  }

  function handleTime(topic: string, centerId: string, payload: Buffer): void {
    if (inactive(centerId)) return refuseInactive(topic, payload, centerId); // no time service for unknown centers
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch (e) {
      return refuse(topic, payload, "MQTT_PAYLOAD_JSON", (e as Error).message);
    }
    const t = TimeRequest.safeParse(json);
    if (!t.success) return refuse(topic, payload, "MQTT_PAYLOAD_SCHEMA", issuesText(t.error.issues));
    if (t.data.centerId !== centerId) return refuse(topic, payload, "MQTT_CENTER_MISMATCH", "time request of another center");
    const reply: TimeReply = { v: 1, centerId, edgeTime: t.data.edgeTime, serverTime: clock.now() };
    deps.publishTimeReply?.(centerId, reply).catch((e: unknown) => log.warn({ err: e, centerId }, "time reply failed"));
  }

  return {
    handleMessage(topic, payload) {
      try {
        if (payload.length > MAX_PAYLOAD_BYTES)
          return refuse(topic, payload, "MQTT_PAYLOAD_TOO_LARGE", `${payload.length} > ${MAX_PAYLOAD_BYTES} bytes`);
        const t = parseTopic(topic);
        if (!t || t.dir !== "up") return refuse(topic, payload, "MQTT_TOPIC", "not a Hazri uplink topic");
        if (t.kind === "events") return handleEvents(topic, t.centerId, payload);
        if (t.kind === "status") return handleStatus(topic, t.centerId, payload);
        return handleTime(topic, t.centerId, payload);
      } catch (e) {
        // Never let one message take the server down; this is a bug, so log it loudly.
        log.error({ err: e, topic }, "ingest internal error");
        countRejected(metrics, "INGEST_INTERNAL");
      }
    },
    kick() {
      schedule();
    },
    drain() {
      if (writing === 0 && acking.size === 0 && (queue.length === 0 || !writable())) return Promise.resolve(); // nothing writable now: the edges keep it
      if (timer) {
        clearTimeout(timer);
        timer = null;
        startWrite();
      }
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async close() {
      closed = true;
      // Last chance to store and ack what was accepted; if it fails, the edges re-send.
      await this.drain();
    },
  };
}
