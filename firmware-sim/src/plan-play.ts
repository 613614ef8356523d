/**
 * Playing a seeded plan in compressed time, shared by runDay (scenario.ts) and
 * runScenario (scenario-run.ts), so that a fixed seed gives the same ground
 * truth on every run:
 *  - which taps cannot be made because the reader is still busy with the
 *    previous card is decided from the plan (readerBusySkips), not from how
 *    fast the box happened to be; the skips are ground truth (`skip` records);
 *  - every step takes an ordered truth slot when it is dispatched, so records
 *    reach the file in plan order whatever order the devices finish in.
 */
import type { GroundTruth } from "./ground-truth.ts";
import { createTruthSequencer, type TruthSlot } from "./truth-order.ts";

/** What a planned tap occupies its reader for, in wall ms (devices/rdm6300.ts). */
export interface ReaderTiming {
  /** Card in the field (default 300: the sim's tap default). */
  holdMs?: number;
  /** The same card is presented again only this long after it left (default 700: SimCardReader.sameCardGapMs). */
  sameCardGapMs?: number;
  /** Listener probe + drain on top of the hold (default 50). */
  marginMs?: number;
}

type TapLike = { at: number; kind: string; reader?: string; cardId?: string };

/**
 * Indices of the taps the plan cannot make at `speed`: a reader is busy from a
 * tap's `at` to `at + (hold + margin) × speed` sim ms (the hold is wall time:
 * the frames go out for real), and for the same card a further `sameCardGap ×
 * speed`. Pure: the same plan and speed always skip the same taps.
 */
export function readerBusySkips(plan: readonly TapLike[], speed: number, t: ReaderTiming = {}): Set<number> {
  const hold = t.holdMs ?? 300;
  const gap = t.sameCardGapMs ?? 700;
  const margin = t.marginMs ?? 50;
  const busy = new Map<string, { until: number; card: string }>();
  const skip = new Set<number>();
  plan.forEach((a, i) => {
    if (a.kind !== "tap" || a.reader === undefined) return;
    const card = (a.cardId ?? "").toUpperCase();
    const prev = busy.get(a.reader);
    if (prev && a.at < prev.until + (prev.card === card ? gap * speed : 0)) {
      skip.add(i);
      return;
    }
    busy.set(a.reader, { until: a.at + (hold + margin) * speed, card });
  });
  return skip;
}

export interface PlayOptions<A extends { at: number }> {
  speed: number;
  gt: GroundTruth;
  signal?: AbortSignal | undefined;
  /** Steps (indices) not to run; `onSkip` writes their truth into the slot. */
  skip?: ReadonlySet<number>;
  onSkip?: (a: A, slot: TruthSlot) => void;
  /** Run one step; write its truth through `slot` (closed by playPlan when the promise settles). */
  run: (a: A, slot: TruthSlot) => Promise<void>;
  onDispatch?: (a: A) => void;
  /**
   * Steps with the same key run one after the other (a device's steps: its taps, its fault start and
   * end), so what a step sees of its device never depends on how fast an earlier one finished (a
   * tap right after a fault ends sees the restored reader, on every run). Default: no key, concurrent.
   */
  key?: (a: A) => string | undefined;
  /** Keep playing (the devices keep running) until this sim ms even after the last step: a run lasts its duration. */
  untilMs?: number;
}

export interface PlayResult {
  executed: number;
  skipped: number;
  stoppedEarly: boolean;
  errors: string[];
}

export async function playPlan<A extends { at: number }>(plan: readonly A[], o: PlayOptions<A>): Promise<PlayResult> {
  if (!(o.speed > 0)) throw new RangeError(`speed must be > 0, got ${o.speed}`);
  const seq = createTruthSequencer(o.gt);
  const r: PlayResult = { executed: 0, skipped: 0, stoppedEarly: false, errors: [] };
  const inflight = new Set<Promise<void>>();
  const chains = new Map<string, Promise<void>>();
  const start = performance.now();
  for (let i = 0; i < plan.length; i++) {
    const a = plan[i] as A;
    const wait = start + a.at / o.speed - performance.now();
    if (wait > 0) await sleep(wait, o.signal);
    if (o.signal?.aborted) {
      r.stoppedEarly = true;
      break;
    }
    const slot = seq.slot(a.at);
    if (o.skip?.has(i)) {
      r.skipped++;
      try {
        o.onSkip?.(a, slot);
      } finally {
        slot.close();
      }
      continue;
    }
    r.executed++;
    const k = o.key?.(a);
    const prev = (k !== undefined ? chains.get(k) : undefined) ?? Promise.resolve();
    const p = prev
      .then(() => o.run(a, slot))
      .catch((e: unknown) => void r.errors.push(e instanceof Error ? e.message : String(e)))
      .finally(() => slot.close());
    if (k !== undefined) {
      chains.set(k, p);
      void p.finally(() => chains.get(k) === p && chains.delete(k));
    }
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    o.onDispatch?.(a);
  }
  if (o.untilMs !== undefined && !r.stoppedEarly) {
    const wait = start + o.untilMs / o.speed - performance.now();
    if (wait > 0) await sleep(wait, o.signal);
    if (o.signal?.aborted) r.stoppedEarly = true;
  }
  while (inflight.size > 0) await Promise.all([...inflight]);
  return r;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
