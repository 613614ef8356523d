/**
 * Scale mode: many simulated edges in one process, each with its own MQTT.js
 * client to the central broker (no ptys), producing valid UplinkBatch
 * messages at per-center rates, honouring acks, re-sending, heartbeating and
 * holding a retained status with a Last Will. One shared timer drives all of
 * them (a timer per center would cost more than the work).
 *
 * `storm()` plays a national outage: every edge loses its link at once (the
 * broker fires every Will), keeps capturing events for `outageMs`, then all
 * reconnect within `reconnectWithinMs` — the reconnect storm the server and
 * broker must survive — and we measure until the backlog is acked.
 *
 * Used by `hazri sim --scale N` and by the server's ingest benchmark.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { HazriError } from "../../../protocol/errors.ts";
import { createRng } from "../rng.ts";
import { createCenterModel } from "./center-model.ts";
import { createHistogram, type LatencySummary } from "./histogram.ts";
import { createSimEdge, type SimEdge, type SimEdgeCounters } from "./sim-edge.ts";

export interface ScaleFleetOptions {
  brokerUrl: string;
  /** Number of centers, or explicit center ids. */
  centers: number | string[];
  /** Mean events/s per center (heartbeats and uplink events come on top). Default 0.2. */
  ratePerCenter?: number;
  seed: number;
  /** Broker credentials: one pair for all, or per center (auth "centers": username = center id). */
  credentials?: { username: string; password: string } | ((centerId: string) => { username: string; password: string });
  /** Center id prefix when `centers` is a number (default "sc"): ids are `<prefix>-0001`… */
  idPrefix?: string;
  batchSize?: number;
  window?: number;
  resendAfterMs?: number;
  heartbeatS?: number;
  keepaliveS?: number;
  /** New connections per second during start-up (default 400), so start-up is not itself a storm. */
  connectRate?: number;
  /** How long start() waits for every edge's first CONNACK (default 120 s). */
  connectTimeoutMs?: number;
  /** Normal reconnect delay after an unplanned drop (edge default 1 s; jittered ±50 %). */
  reconnectDelayMs?: number;
  /** Shared tick (default 100 ms). */
  tickMs?: number;
}

export interface StormOptions {
  /** How long the nation stays offline (default 10 s). Edges keep capturing meanwhile. */
  outageMs?: number;
  /** Every edge reconnects at a random moment within this window after the outage (default 2 s). */
  reconnectWithinMs?: number;
  /** Give up waiting for reconnect + backlog after this (default 180 s). */
  timeoutMs?: number;
}

export interface StormReport {
  centers: number;
  outageMs: number;
  reconnectWithinMs: number;
  /** Events captured before the end of the outage that had to be (re)delivered. */
  backlogEvents: number;
  /** ms from the end of the outage until every edge had a CONNACK again; null on timeout. */
  allReconnectedMs: number | null;
  /** ms from the end of the outage until every event captured up to then was acked; null on timeout. */
  backlogAckedMs: number | null;
}

export interface FleetStats extends SimEdgeCounters {
  centers: number;
  connected: number;
  /** Un-acked events across all outboxes. */
  pending: number;
  elapsedS: number;
  /** Average rates since start (events/s). */
  publishedPerSec: number;
  ackedPerSec: number;
  generatedPerSec: number;
  ackLatencyMs: LatencySummary;
  storms: StormReport[];
}

export interface ScaleFleet {
  readonly centerIds: readonly string[];
  stats(): FleetStats;
  storm(opts?: StormOptions): Promise<StormReport>;
  /** Stop generating and wait until every outbox is empty (throws on timeout). Returns final stats. */
  drain(timeoutMs?: number): Promise<FleetStats>;
  /** Disconnect every edge (retained offline status first). Does not wait for acks: call drain() first. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) return false;
    await sleep(pollMs);
  }
  return true;
}

export async function startScaleFleet(opts: ScaleFleetOptions): Promise<ScaleFleet> {
  const ids =
    typeof opts.centers === "number"
      ? Array.from({ length: opts.centers }, (_, i) => `${opts.idPrefix ?? "sc"}-${String(i + 1).padStart(4, "0")}`)
      : opts.centers;
  const rng = createRng(opts.seed);
  const jitter = rng.fork();
  const latency = createHistogram();
  const now = () => Date.now();
  const mono = () => performance.now();
  // Model time starts once every edge is connected (see the end of this function):
  // the connect ramp is set-up, not traffic, and a backlog from it would skew the rates.
  let startMono = mono();
  let startWall = now();
  let outageUntil: number | null = null; // mono; edges stay down while set
  const reconnectDelayMs = opts.reconnectDelayMs ?? 1000;
  const storms: StormReport[] = [];

  const edges: SimEdge[] = ids.map((centerId) => {
    const model = createCenterModel({ centerId, seed: Math.floor(rng.next() * 2 ** 32), ratePerSec: opts.ratePerCenter ?? 0.2 });
    const creds = typeof opts.credentials === "function" ? opts.credentials(centerId) : opts.credentials;
    return createSimEdge({
      brokerUrl: opts.brokerUrl,
      model,
      bootId: randomBytes(6).toString("hex"),
      startWall,
      ...(creds ? { credentials: creds } : {}),
      batchSize: opts.batchSize ?? 200,
      window: opts.window ?? 4,
      resendAfterMs: opts.resendAfterMs ?? 10_000,
      heartbeatMs: (opts.heartbeatS ?? 30) * 1000,
      keepaliveS: opts.keepaliveS ?? 60,
      connectTimeoutMs: 30_000,
      latency,
      mono,
      now,
      reconnectDelay: () => (outageUntil !== null ? null : reconnectDelayMs * (0.5 + jitter.next())),
    });
  });

  const tickMs = opts.tickMs ?? 100;
  let timer: ReturnType<typeof setInterval> | null = null;

  const sum = (k: keyof SimEdgeCounters) => edges.reduce((a, e) => a + e.counters[k], 0);
  const connectedCount = () => edges.reduce((a, e) => a + (e.connected() ? 1 : 0), 0);

  const fleet: ScaleFleet = {
    centerIds: ids,
    stats() {
      const elapsedS = Math.max(1e-3, (mono() - startMono) / 1000);
      const c = {} as SimEdgeCounters;
      for (const k of ["generated", "published", "resent", "acked", "duplicateAcks", "rejected", "badDownlink", "connects", "disconnects"] as const) c[k] = sum(k);
      return {
        ...c,
        centers: edges.length,
        connected: connectedCount(),
        pending: edges.reduce((a, e) => a + e.pending(), 0),
        elapsedS: Math.round(elapsedS * 100) / 100,
        publishedPerSec: Math.round((c.published / elapsedS) * 10) / 10,
        ackedPerSec: Math.round((c.acked / elapsedS) * 10) / 10,
        generatedPerSec: Math.round((c.generated / elapsedS) * 10) / 10,
        ackLatencyMs: latency.summary(),
        storms: [...storms],
      };
    },
    async storm(so = {}) {
      const outageMs = so.outageMs ?? 10_000;
      const within = so.reconnectWithinMs ?? 2000;
      const timeoutMs = so.timeoutMs ?? 180_000;
      outageUntil = mono() + outageMs;
      for (const e of edges) e.dropLink();
      await sleep(outageMs);
      const marks = edges.map((e) => e.lastSeq());
      const connectsAt = edges.map((e) => e.counters.connects);
      const backlog = edges.reduce((a, e) => a + e.pending(), 0);
      outageUntil = null;
      const restored = mono();
      for (const e of edges) setTimeout(() => e.reconnect(), jitter.next() * within);
      const report: StormReport = { centers: edges.length, outageMs, reconnectWithinMs: within, backlogEvents: backlog, allReconnectedMs: null, backlogAckedMs: null };
      // "Reconnected" = a CONNACK since the restore, per edge: under load some may flap again later.
      if (await until(() => edges.every((e, i) => e.counters.connects > (connectsAt[i] as number)), timeoutMs)) report.allReconnectedMs = Math.round(mono() - restored);
      const left = Math.max(0, timeoutMs - (mono() - restored));
      if (await until(() => edges.every((e, i) => !e.holdsUpTo(marks[i] as number)), left)) report.backlogAckedMs = Math.round(mono() - restored);
      storms.push(report);
      return report;
    },
    async drain(timeoutMs = 120_000) {
      for (const e of edges) e.pause();
      if (!(await until(() => edges.every((e) => e.pending() === 0), timeoutMs))) {
        const s = fleet.stats();
        throw new HazriError("DEVICE_TIMEOUT", `scale fleet: ${s.pending} events still un-acked after ${timeoutMs} ms`, s);
      }
      return fleet.stats();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await Promise.all(edges.map((e) => e.close()));
    },
  };

  // Ramp the connections: a fleet of edges does not boot in the same millisecond.
  const rate = opts.connectRate ?? 400;
  const chunk = Math.max(1, Math.round(rate / 20));
  try {
    for (let i = 0; i < edges.length; i += chunk) {
      for (const e of edges.slice(i, i + chunk)) e.connect();
      if (i + chunk < edges.length) await sleep(50);
    }
    const timeoutMs = opts.connectTimeoutMs ?? 120_000;
    if (!(await until(() => connectedCount() === edges.length, timeoutMs, 100))) {
      throw new HazriError("DEVICE_TIMEOUT", `scale fleet: only ${connectedCount()}/${edges.length} edges connected after ${timeoutMs} ms`);
    }
  } catch (e) {
    await fleet.stop();
    throw e;
  }
  startMono = mono();
  startWall = now();
  for (const e of edges) e.setStartWall(startWall);
  timer = setInterval(() => {
    const t = mono() - startMono;
    for (const e of edges) e.tick(t);
  }, tickMs);
  return fleet;
}
