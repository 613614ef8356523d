import type { Logger } from "../../../protocol/clock.ts";

/**
 * Progress of a backlog replay after an outage (issue 3: "progress of a long
 * replay is visible (log and heartbeat)"). A replay is active while the queue
 * holds more than `threshold` events (more than the in-flight window would
 * carry in one round trip); the rate is an exponentially weighted average of
 * acked events per second, on the monotonic clock.
 */
export interface ReplayProgress {
  active: boolean;
  remaining: number;
  ackedPerS: number;
  /** Events acked since this replay began. */
  acked: number;
}

export interface ReplayTracker {
  onConnect(depth: number, mono: number): void;
  onAck(n: number, depth: number, mono: number): void;
  progress(depth: number): ReplayProgress;
}

/**
 * `onChange` is told when a replay begins and ends, so the agent can record a heartbeat right then: the
 * progress is visible in the heartbeat series even when a replay is shorter than the heartbeat interval.
 */
export function createReplayTracker(o: { threshold: number; logger: Logger; logEveryMs?: number; onChange?: (active: boolean) => void }): ReplayTracker {
  const every = o.logEveryMs ?? 5000;
  let active = false;
  let startDepth = 0;
  let acked = 0;
  let rate = 0;
  let lastAckMono: number | null = null;
  let startMono = 0;
  let lastLog = 0;
  return {
    onConnect(depth, mono) {
      lastAckMono = null;
      if (depth > o.threshold && !active) {
        active = true;
        startDepth = depth;
        startMono = mono;
        acked = 0;
        lastLog = mono;
        o.logger.info({ backlog: depth }, "replay started");
        o.onChange?.(true);
      }
    },
    onAck(n, depth, mono) {
      if (lastAckMono !== null && mono > lastAckMono) {
        const inst = (n * 1000) / (mono - lastAckMono);
        rate = rate === 0 ? inst : 0.8 * rate + 0.2 * inst;
      }
      lastAckMono = mono;
      if (!active) return;
      acked += n;
      if (depth <= o.threshold) {
        active = false;
        const s = Math.max(0.001, (mono - startMono) / 1000);
        o.logger.info({ acked, seconds: Math.round(s * 10) / 10, perS: Math.round(acked / s) }, "replay done");
        o.onChange?.(false);
      } else if (mono - lastLog >= every) {
        lastLog = mono;
        o.logger.info({ remaining: depth, acked, of: startDepth, perS: Math.round(rate) }, "replay progress");
      }
    },
    progress: (depth) => ({ active, remaining: depth, ackedPerS: Math.round(rate * 10) / 10, acked }),
  };
}
