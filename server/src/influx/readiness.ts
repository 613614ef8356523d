import type { Logger } from "../../../protocol/clock.ts";

/**
 * Keeps "the database exists" true without making InfluxDB a start-up
 * dependency: the server starts its broker and API while InfluxDB is down
 * (a power cut restarts both; which one answers first is luck) and retries
 * `ensure()` (CREATE DATABASE / RP, or a v2 ping) with exponential back-off
 * until it succeeds. Nothing is acked meanwhile: the ingest does not write
 * before `ready()`, and an edge trims its outbox only on an ack (durability
 * rule), so the edges simply keep their events.
 *
 * `recheck()` makes it not ready again and retries at once — the ingest calls
 * it when a write answers "database not found" (InfluxDB restarted on an empty
 * data folder), so the server recovers without a restart.
 */
export interface DatabaseReadiness {
  ready(): boolean;
  /** Settles after the first attempt: true when it succeeded. */
  readonly firstAttempt: Promise<boolean>;
  /** Called after every transition to ready (the first one and after each recheck). */
  onReady(listener: () => void): void;
  recheck(): void;
  stop(): void;
}

export interface ReadinessOptions {
  ensure: () => Promise<void>;
  logger: Logger;
  /** First retry delay (default 500 ms), doubled per failure up to maxDelayMs (default 5 s). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** A failure is logged as a warning at most this often (default 60 s); the rest at debug. */
  warnEveryMs?: number;
  now?: () => number;
}

export function keepDatabaseReady(o: ReadinessOptions): DatabaseReadiness {
  const minDelay = o.minDelayMs ?? 500;
  const maxDelay = Math.max(minDelay, o.maxDelayMs ?? 5_000);
  const warnEvery = o.warnEveryMs ?? 60_000;
  const now = o.now ?? Date.now;
  const listeners: Array<() => void> = [];
  let isReady = false;
  let stopped = false;
  let attempting = false;
  let failures = 0;
  let lastWarn = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let settleFirst: (ok: boolean) => void = () => {};
  const firstAttempt = new Promise<boolean>((r) => (settleFirst = r));

  async function attempt(): Promise<void> {
    if (stopped || attempting || isReady) return;
    attempting = true;
    try {
      await o.ensure();
    } catch (e) {
      attempting = false;
      if (stopped) return;
      failures++;
      const delay = Math.min(maxDelay, minDelay * 2 ** Math.min(failures - 1, 30));
      const t = now();
      if (t - lastWarn >= warnEvery) {
        lastWarn = t;
        o.logger.warn({ err: e, failures, retryInMs: delay }, "InfluxDB not ready; retrying (nothing is acked until it is)");
      } else o.logger.debug({ err: e, failures, retryInMs: delay }, "InfluxDB still not ready");
      settleFirst(false);
      timer = setTimeout(() => {
        timer = null;
        void attempt();
      }, delay);
      return;
    }
    attempting = false;
    if (stopped) return;
    if (failures > 0) o.logger.info({ failures }, "InfluxDB ready after retries");
    failures = 0;
    isReady = true;
    settleFirst(true);
    for (const l of listeners) {
      try {
        l();
      } catch (e) {
        o.logger.warn({ err: e }, "database-ready listener failed");
      }
    }
  }

  void attempt();
  return {
    ready: () => isReady,
    firstAttempt,
    onReady(l) {
      listeners.push(l);
    },
    recheck() {
      if (stopped || !isReady) return;
      isReady = false;
      o.logger.warn("InfluxDB database missing; re-creating it (nothing is acked until it exists)");
      void attempt();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      settleFirst(false);
    },
  };
}
