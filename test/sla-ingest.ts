/**
 * Scripted edge events into InfluxDB through the server's real ingest
 * (server/src/ingest: UplinkBatch on the edge's topic, every event parsed with
 * the protocol's zod schema, written, acked): what the SLA tests store is what
 * a real edge's backlog would leave. Batches of 500 events, drained every 8 so
 * each InfluxDB write stays under the adapter's request size.
 */
import { expect } from "vitest";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import type { HazriEvent } from "../protocol/events.ts";
import { topics } from "../protocol/topics.ts";
import type { InfluxAdapter } from "../server/src/influx/adapter.ts";
import { createIngest, type Ingest, type IngestDeps } from "../server/src/ingest/ingest.ts";
import { createLiveState } from "../server/src/live/state.ts";
import { createMetrics } from "../server/src/metrics.ts";

export interface ScriptedIngest {
  ingest: Ingest;
  /** Send, drain, and check that every event was acked and none rejected. */
  send(events: readonly HazriEvent[]): Promise<void>;
  close(): Promise<void>;
}

export function scriptedIngest(adapter: Pick<InfluxAdapter, "writeLines">, extra: Pick<IngestDeps, "onStored"> = {}): ScriptedIngest {
  const acked = new Map<string, Set<number>>();
  const rejected: unknown[] = [];
  const ingest = createIngest({
    influx: adapter,
    publishAck: async (centerId, ack) => {
      const set = acked.get(centerId) ?? new Set<number>();
      for (const [a, b] of ack.acked) for (let q = a; q <= b; q++) set.add(q);
      acked.set(centerId, set);
      rejected.push(...ack.rejected);
    },
    live: createLiveState(),
    logger: silentLogger,
    clock: systemClock,
    metrics: createMetrics(),
    opts: { maxWriteEvents: 4_000 },
    ...extra,
  });
  return {
    ingest,
    async send(events) {
      const byCenter = new Map<string, HazriEvent[]>();
      for (const e of events) {
        const l = byCenter.get(e.centerId);
        if (l) l.push(e);
        else byCenter.set(e.centerId, [e]);
      }
      for (const [centerId, list] of byCenter) {
        for (let i = 0; i < list.length; i += 500) {
          const batch = list.slice(i, i + 500);
          const payload = { v: 1, centerId, bootId: batch[0]!.bootId, sentAt: Date.now(), events: batch };
          ingest.handleMessage(topics.up(centerId, "events"), Buffer.from(JSON.stringify(payload)));
          if ((i / 500) % 8 === 7) await ingest.drain();
        }
      }
      await ingest.drain();
      const missing = events.filter((e) => !acked.get(e.centerId)?.has(e.seq));
      expect(missing.map((e) => `${e.centerId}#${e.seq}`), "events not acked").toEqual([]);
      expect(rejected).toEqual([]);
    },
    close: () => ingest.close(),
  };
}
