import { z } from "zod";
import { BootId, CenterId, OutboxId } from "./ids.ts";
import { SCHEMA_VERSION } from "./events.ts";

/** Most events an edge puts in one uplink batch; keeps a batch well under MAX_PAYLOAD_BYTES. */
export const MAX_BATCH_EVENTS = 500;
/** Largest MQTT payload the server accepts on any Hazri topic. */
export const MAX_PAYLOAD_BYTES = 512 * 1024;

/**
 * Edge → server, QoS 1, topic `up/events`. The envelope is parsed first; each
 * event is then parsed on its own so that one malformed event does not stop
 * the sender's valid events from landing (issue 2, bad input).
 */
export const UplinkBatch = z.object({
  v: z.literal(SCHEMA_VERSION),
  centerId: CenterId,
  bootId: BootId,
  /** Edge wall clock when sent (ms); lets the server estimate the edge's clock offset. */
  sentAt: z.number().int().min(0),
  /**
   * Optional, additive: the sending outbox's identity. Seqs are only unique within one outbox: an edge
   * whose outbox was wiped (SD card replaced) starts again at seq 1, and a late ack for the old outbox
   * must not trim the new one's events. The server echoes it in the ack.
   */
  outboxId: OutboxId.optional(),
  events: z.array(z.unknown()).min(1).max(MAX_BATCH_EVENTS),
});
export type UplinkBatch = z.infer<typeof UplinkBatch>;

/** Inclusive range of sequence numbers `[from, to]`. */
export const SeqRange = z.tuple([z.number().int().min(1), z.number().int().min(1)]).refine(([a, b]) => a <= b, {
  message: "range start must be <= end",
});
export type SeqRange = z.infer<typeof SeqRange>;

/**
 * Server → edge, QoS 1, topic `down/ack`. Sent only after InfluxDB confirmed
 * the write (durability rule). `acked` may be trimmed from the outbox;
 * `rejected` events can never be stored (schema) and move to the edge's
 * dead-letter table with the reason, so nothing disappears silently.
 */
export const AckMessage = z.object({
  v: z.literal(SCHEMA_VERSION),
  centerId: CenterId,
  acked: z.array(SeqRange).max(10_000),
  rejected: z
    .array(z.object({ seq: z.number().int().min(1), code: z.string().max(64), reason: z.string().max(500) }))
    .max(10_000),
  /** Server wall clock (ms) when the ack was sent: a time source for unsynced edges. */
  serverTime: z.number().int().min(0),
  /** The batch's `outboxId`, echoed (absent when the batch had none). An edge ignores an ack for another outbox. */
  outboxId: OutboxId.optional(),
});
export type AckMessage = z.infer<typeof AckMessage>;

/**
 * Edge status, retained, QoS 1, topic `up/status`. The edge sets the same
 * topic as its Last Will with state "offline" (MQTT 3.1.1 §3.1.2.5 will flag,
 * §3.1.2.7 will retain), so the broker announces an edge that vanished.
 */
export const EdgeStatus = z.object({
  v: z.literal(SCHEMA_VERSION),
  centerId: CenterId,
  state: z.enum(["online", "offline"]),
  bootId: BootId,
  ts: z.number().int().min(0),
  /**
   * Optional, additive (edge issue 3). The member cache version the edge holds
   * (null: none). `wantFullCache: true` asks the server for a full cache (a
   * delta did not fit the edge's version, or a multi-part full is incomplete);
   * the server treats every "online" status as `edgeOnline` (full cache), so
   * re-publishing the status is how an edge asks. Not retained-relevant.
   */
  cacheVersion: z.number().int().min(0).nullable().optional(),
  wantFullCache: z.boolean().optional(),
});
export type EdgeStatus = z.infer<typeof EdgeStatus>;

/** Server → edge time answer, topic `down/time`, sent on request `up/time`. */
export const TimeRequest = z.object({ v: z.literal(SCHEMA_VERSION), centerId: CenterId, edgeTime: z.number().int().min(0) });
export const TimeReply = z.object({
  v: z.literal(SCHEMA_VERSION),
  centerId: CenterId,
  edgeTime: z.number().int().min(0),
  serverTime: z.number().int().min(0),
});
export type TimeReply = z.infer<typeof TimeReply>;

/** Compress sorted or unsorted sequence numbers into inclusive ranges. */
export function toRanges(seqs: Iterable<number>): SeqRange[] {
  const sorted = [...new Set(seqs)].sort((a, b) => a - b);
  const out: SeqRange[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

export function* expandRanges(ranges: readonly SeqRange[]): Generator<number> {
  for (const [a, b] of ranges) for (let s = a; s <= b; s++) yield s;
}
