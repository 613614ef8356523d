/**
 * A minimal MQTT.js "edge" for server tests and benchmarks (no vitest imports):
 * publishes UplinkBatch messages on `topics.up(center, "events")` with QoS 1
 * and records the seqs the server acks on `topics.down(center, "ack")`.
 * Not the real edge agent (that is edge/src): no outbox, no re-send timer —
 * the tests re-send explicitly when they want a replay.
 */
import type net from "node:net";
import mqtt from "mqtt";
import type { HazriEvent } from "../protocol/events.ts";
import { AckMessage } from "../protocol/messages.ts";
import { topics } from "../protocol/topics.ts";

export interface FakeEdge {
  readonly centerId: string;
  readonly client: mqtt.MqttClient;
  /** Seqs acked so far (union of all acks, from any server instance). */
  readonly acked: Set<number>;
  /** Acks received (count). */
  acks: number;
  rejected: Array<{ seq: number; code: string }>;
  send(events: HazriEvent[]): Promise<void>;
  publishStatus(state: "online" | "offline", ts: number): Promise<void>;
  close(): Promise<void>;
}

export async function connectFakeEdge(o: {
  url: string;
  centerId: string;
  bootId?: string;
  username?: string;
  password?: string;
  ca?: Buffer;
  /** Reconnect after a drop (default true); false makes a refused CONNECT reject at once. */
  reconnect?: boolean;
  /** Called on every ack (benchmarks count throughput). */
  onAck?: (n: number) => void;
}): Promise<FakeEdge> {
  const bootId = o.bootId ?? "boot-test-01";
  const client = await mqtt.connectAsync(o.url, {
    clientId: `edge-${o.centerId}`,
    clean: true,
    reconnectPeriod: o.reconnect === false ? 0 : 1000,
    connectTimeout: 30_000,
    keepalive: 60,
    ...(o.username !== undefined ? { username: o.username, password: o.password } : {}),
    ...(o.ca ? { ca: o.ca } : {}),
  });
  // MQTT.js leaves Nagle on (project fact: p50 21 ms → 0.3 ms).
  const nodelay = () => (client.stream as net.Socket).setNoDelay?.(true);
  nodelay();
  client.on("connect", nodelay);
  client.on("error", () => {});
  const edge: FakeEdge = {
    centerId: o.centerId,
    client,
    acked: new Set(),
    acks: 0,
    rejected: [],
    async send(events) {
      const body = { v: 1, centerId: o.centerId, bootId, sentAt: Date.now(), events };
      await client.publishAsync(topics.up(o.centerId, "events"), JSON.stringify(body), { qos: 1 });
    },
    async publishStatus(state, ts) {
      const s = { v: 1, centerId: o.centerId, state, bootId, ts };
      await client.publishAsync(topics.up(o.centerId, "status"), JSON.stringify(s), { qos: 1, retain: true });
    },
    close: () => client.endAsync(true),
  };
  client.on("message", (topic, payload) => {
    if (topic !== topics.down(o.centerId, "ack")) return;
    const a = AckMessage.safeParse(JSON.parse(payload.toString("utf8")));
    if (!a.success) return;
    edge.acks++;
    let n = 0;
    for (const [lo, hi] of a.data.acked)
      for (let s = lo; s <= hi; s++)
        if (!edge.acked.has(s)) {
          edge.acked.add(s);
          n++;
        }
    for (const r of a.data.rejected) edge.rejected.push({ seq: r.seq, code: r.code });
    o.onAck?.(n);
  });
  await client.subscribeAsync(topics.down(o.centerId, "ack"), { qos: 1 });
  return edge;
}

/** A door event (cheap, valid): `opened`/`closed` alternating by seq. */
export function doorEvent(centerId: string, seq: number, ts: number, bootId = "boot-test-01"): HazriEvent {
  return { v: 1, centerId, bootId, seq, ts, mono: seq, synced: true, type: "door", door: "main", state: seq % 2 ? "opened" : "closed" };
}

/**
 * The edge's re-send rule, minimally: every `intervalMs`, (re-)send the oldest
 * `maxPerRound` events not acked yet, in batches of `batch`. Stops by itself
 * once everything is acked, or on stop().
 */
export function resendUntilAcked(
  edge: FakeEdge,
  events: readonly HazriEvent[],
  o: { intervalMs?: number; maxPerRound?: number; batch?: number } = {},
): { done: Promise<void>; stop(): void } {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let resolveDone = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));
  const round = async () => {
    if (stopped) return;
    const todo = events.filter((e) => !edge.acked.has(e.seq)).slice(0, o.maxPerRound ?? 1000);
    if (todo.length === 0) {
      resolveDone();
      return;
    }
    const size = o.batch ?? 100;
    try {
      for (let i = 0; i < todo.length && !stopped; i += size) await edge.send(todo.slice(i, i + size));
    } catch {
      /* disconnected: next round */
    }
    if (!stopped) timer = setTimeout(() => void round(), o.intervalMs ?? 1000);
  };
  void round();
  return {
    done,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      resolveDone();
    },
  };
}

/** VmRSS of a process in MiB (Linux /proc). */
export async function rssMiB(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Parse a Prometheus text exposition into `name{labels}` → value. */
export function parseProm(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** Rejects with "timeout: <what>" unless `p` settles within `ms`; the timer never outlives `p`. */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => {
    t = setTimeout(() => rej(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
