/**
 * Ground truth in plan order. A scenario step's records are known only when
 * the device has acted (a tap's record is written once its first frame is
 * drained, after the async listener probe), so steps that finish out of order
 * would write out of order, and the file would differ from run to run for one
 * seed. Each step takes a slot when it is dispatched (in plan order); a slot's
 * records are appended to the file once every earlier slot is closed. `t`
 * stays the true wall time the record was made; `planMs` is the step's
 * planned offset.
 *
 * Cost: records behind a slow step (a silent reader holds its slot for the
 * card's hold time) wait in memory; a killed simulator loses those, not only
 * the record being written.
 */
import type { GroundTruth, GroundTruthDraft, GroundTruthRecord, TruthWriter } from "./ground-truth.ts";

export interface TruthSlot extends TruthWriter {
  /** No more records for this step; flushes it (and later closed slots) when it is the oldest open one. */
  close(): void;
}

export interface TruthSequencer {
  /** A slot for the next step in plan order; every record written through it gets `planMs`. */
  slot(planMs: number): TruthSlot;
  /** Slots not yet flushed (open, or closed behind an open one). */
  pending(): number;
}

interface Slot {
  recs: GroundTruthDraft[];
  closed: boolean;
}

export function createTruthSequencer(gt: GroundTruth): TruthSequencer {
  const now = gt.now ?? Date.now;
  const queue: Slot[] = [];
  const flush = () => {
    for (;;) {
      const head = queue[0];
      if (!head) return;
      for (const r of head.recs.splice(0)) gt.write(r);
      if (!head.closed) return;
      queue.shift();
    }
  };
  return {
    slot(planMs) {
      const s: Slot = { recs: [], closed: false };
      queue.push(s);
      return {
        write(draft) {
          // planMs right after t in the file (openGroundTruth writes t first).
          const rec = { planMs, ...draft, t: draft.t ?? now() } as GroundTruthDraft & { t: number };
          if (s.closed) throw new Error(`ground truth: write after close (planMs ${planMs}, kind ${draft.kind})`);
          s.recs.push(rec);
          flush();
          return rec as GroundTruthRecord;
        },
        close() {
          if (s.closed) return;
          s.closed = true;
          flush();
        },
      };
    },
    pending: () => queue.length,
  };
}
