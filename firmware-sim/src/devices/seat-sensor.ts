/**
 * A simulated ESPHome — or, with `convention: "tasmota"`, Tasmota (§7.2, seat-dialect.ts) — seat sensor (device-protocols.md §7.1/§7.4) speaking MQTT
 * 3.1.1 to the edge's LAN broker:
 *   - clientId = node name (ESPHome default)
 *   - Last Will `<node>/status` = `offline`, retained, QoS 1 (MQTT 3.1.1 §3.1.2.5-7)
 *   - birth `<node>/status` = `online`, retained, QoS 1, on every (re)connect
 *   - state `<node>/binary_sensor/<object>/state` = `ON` / `OFF`, retained, QoS 1,
 *     re-published after every reconnect (ESPHome publishes its states on connect).
 *   - Home Assistant discovery config (§7.3/§7.4 verified example shape),
 *     retained, on every connect: ESPHome does this by default, so the edge
 *     must ignore `homeassistant/...` on its LAN broker.
 * While "online" the client reconnects by itself (the edge's embedded broker
 * restarts with the edge); `goOffline()` kills the socket without DISCONNECT so
 * the broker must publish the Will (§3.1.2.5: Will is published on a network
 * failure, not on a clean DISCONNECT).
 */
import type { Socket } from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { HazriError } from "../../../protocol/errors.ts";
import { lanTopics } from "../../../protocol/topics.ts";
import { esphomeDialect, tasmotaDialect, type SeatDialect } from "./seat-dialect.ts";

export interface SimSeatSensorOptions {
  node: string;
  object: string;
  /** Reconnect period while online (ms, default 1000). */
  reconnectMs?: number;
  /** Publish HA discovery on connect (default true, ESPHome's default). */
  discovery?: boolean;
  /** Human name for discovery (default `<node> <object>`). */
  name?: string;
  /** HA device_class (default "occupancy"; "door" for a reed switch). */
  deviceClass?: string;
  /** esphome (default) or tasmota: `node` is then the device's %topic%, `object` POWER<n> or Switch<n> (seat-dialect.ts). */
  convention?: "esphome" | "tasmota";
  /** Tasmota TelePeriod: the state is repeated as tele JSON this often (ms, default 300 000; 0 = off). */
  telePeriodMs?: number;
}

/** HA discovery topic + payload for an ESPHome binary sensor, as in device-protocols.md §7.4. */
export function discoveryMessage(node: string, object: string, opts: { name?: string; deviceClass?: string } = {}) {
  return {
    topic: `homeassistant/binary_sensor/${node}/${object}/config`,
    payload: {
      name: opts.name ?? `${node} ${object}`,
      unique_id: `${node}_${object}`,
      device_class: opts.deviceClass ?? "occupancy",
      state_topic: lanTopics.state(node, object),
      payload_on: "ON",
      payload_off: "OFF",
      availability_topic: lanTopics.status(node),
      payload_available: "online",
      payload_not_available: "offline",
      device: { identifiers: [node], name: node, manufacturer: "Hazri sim", model: "ESPHome binary_sensor" },
    },
  };
}

/** Per-test overrides (Z-Wave JS mock style, like the serial devices); `setBehavior` returns restore(). */
export interface SeatSensorBehavior {
  /** Hung firmware: stays connected (keepalives, no LWT) but publishes nothing; the measured state is kept. */
  stale: boolean;
  /** State toggles ON/OFF every flapMs (wall) regardless of the seat (a PIR at the edge of its zone); 0 = off. */
  flapMs: number;
  /** Each state is published this many ms after it was measured. */
  lateMs: number;
  /** Publish this instead of ON/OFF for every state (a firmware bug, a bit flip); null = off. */
  garbage: string | null;
}

export const defaultSeatSensorBehavior = (): SeatSensorBehavior => ({ stale: false, flapMs: 0, lateMs: 0, garbage: null });

export class SimSeatSensor {
  readonly node: string;
  readonly object: string;
  readonly stateTopic: string;
  readonly statusTopic: string;
  readonly dialect: SeatDialect;
  private teleTimer: NodeJS.Timeout | null = null;
  private readonly telePeriodMs: number;
  private url: string | null = null;
  private client: MqttClient | null = null;
  private occupied: boolean | null = null;
  private readonly reconnectMs: number;
  private readonly discovery: ReturnType<typeof discoveryMessage> | null;
  behavior: SeatSensorBehavior = defaultSeatSensorBehavior();
  private flapTimer: NodeJS.Timeout | null = null;
  private readonly lateTimers = new Set<NodeJS.Timeout>();
  /** State publishes that really went out (ON/OFF or garbage), for tests. */
  published = 0;

  constructor(opts: SimSeatSensorOptions) {
    this.node = opts.node;
    this.object = opts.object;
    this.dialect = opts.convention === "tasmota" ? tasmotaDialect(opts.node, opts.object) : esphomeDialect(opts.node, opts.object);
    this.stateTopic = this.dialect.stateTopic;
    this.statusTopic = this.dialect.statusTopic;
    this.reconnectMs = opts.reconnectMs ?? 1000;
    this.telePeriodMs = this.dialect.tele ? (opts.telePeriodMs ?? 300_000) : 0;
    // Tasmota has its own discovery scheme (not simulated); ESPHome sends HA discovery by default.
    this.discovery = opts.discovery === false || this.dialect.convention === "tasmota" ? null : discoveryMessage(opts.node, opts.object, opts);
  }

  /** The broker it was last connected to (null: never connected). */
  get brokerUrl(): string | null {
    return this.url;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** The last state the sensor measured (null = never set). */
  get isOccupied(): boolean | null {
    return this.occupied;
  }

  /** Connect to the LAN broker; resolves after CONNACK + birth, rejects after `timeoutMs` (default 10 s). */
  async connect(url: string, timeoutMs = 10_000): Promise<void> {
    if (this.client) await this.goOffline();
    this.url = url;
    const client = mqtt.connect(url, {
      clientId: this.dialect.clientId,
      protocolVersion: 4,
      clean: true,
      keepalive: 15,
      reconnectPeriod: this.reconnectMs,
      connectTimeout: Math.min(timeoutMs, 5000),
      will: { topic: this.statusTopic, payload: Buffer.from(this.dialect.offline), qos: 1, retain: true },
    });
    this.client = client;
    client.on("error", () => undefined); // connection errors surface as the timeout below; reconnect retries
    client.on("connect", () => {
      (client.stream as Socket).setNoDelay?.(true); // Nagle off: 21 ms → 0.3 ms p50 (project notes)
      void this.announce(client);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off("connect", onConnect);
        client.end(true);
        if (this.client === client) this.client = null;
        reject(new HazriError("DEVICE_TIMEOUT", `seat sensor ${this.node}: no CONNACK from ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnect = () => {
        clearTimeout(timer);
        resolve();
      };
      client.once("connect", onConnect);
    });
  }

  /**
   * Measure a new state and publish it (retained QoS 1). While offline it is kept and sent on comeBack().
   * Resolves true when a valid ON/OFF for it went (or, `lateMs`, will go) to the broker: false offline,
   * `stale`, `flapMs` (the flapping owns the topic) or `garbage`.
   */
  async setOccupied(occupied: boolean): Promise<boolean> {
    this.occupied = occupied;
    const c = this.client;
    const b = this.behavior;
    if (!c?.connected || b.stale || b.flapMs > 0) return false;
    if (b.garbage !== null) {
      await this.send(c, b.garbage);
      return false;
    }
    if (b.lateMs > 0) {
      const t = setTimeout(() => {
        this.lateTimers.delete(t);
        if (this.client === c && c.connected) void this.send(c, this.dialect.encode(occupied)).catch(() => undefined);
      }, b.lateMs);
      this.lateTimers.add(t);
      return true;
    }
    await this.send(c, this.dialect.encode(occupied));
    return true;
  }

  /** Override some behaviours; returns a function that restores the previous ones. */
  setBehavior(patch: Partial<SeatSensorBehavior>): () => void {
    const prev = this.behavior;
    this.apply({ ...prev, ...patch });
    return () => this.apply(prev);
  }

  resetBehavior(): void {
    this.apply(defaultSeatSensorBehavior());
  }

  private apply(next: SeatSensorBehavior): void {
    const prev = this.behavior;
    this.behavior = next;
    if (next.flapMs !== prev.flapMs) {
      if (this.flapTimer) clearInterval(this.flapTimer);
      this.flapTimer = null;
      if (next.flapMs > 0) {
        let on = !(this.occupied ?? false);
        this.flapTimer = setInterval(() => {
          const c = this.client;
          if (c?.connected && !this.behavior.stale) void this.send(c, this.dialect.encode(on)).catch(() => undefined);
          on = !on;
        }, next.flapMs);
        this.flapTimer.unref?.();
      }
    }
    if (next.garbage !== null && prev.garbage === null && this.client?.connected) void this.send(this.client, next.garbage).catch(() => undefined);
    // Back to normal (stale or flapping over): publish the true state, as the firmware would on its next reading.
    const wasQuiet = prev.stale || prev.flapMs > 0;
    const isQuiet = next.stale || next.flapMs > 0;
    const c = this.client;
    if (wasQuiet && !isQuiet && c?.connected && this.occupied !== null && next.garbage === null) void this.send(c, this.dialect.encode(this.occupied)).catch(() => undefined);
  }

  private async send(c: MqttClient, payload: string): Promise<void> {
    await c.publishAsync(this.stateTopic, payload, { qos: 1, retain: this.dialect.retain });
    this.published++;
  }

  /** Tasmota TelePeriod: the current state again as tele JSON (not while stale, flapping or garbled). */
  private startTele(): void {
    const tele = this.dialect.tele;
    if (!tele || this.telePeriodMs <= 0 || this.teleTimer) return;
    this.teleTimer = setInterval(() => {
      const c = this.client;
      const b = this.behavior;
      if (!c?.connected || this.occupied === null || b.stale || b.flapMs > 0) return;
      void c.publishAsync(tele.topic, b.garbage ?? tele.encode(this.occupied), { qos: 0, retain: false }).catch(() => undefined);
    }, this.telePeriodMs);
    this.teleTimer.unref?.();
  }

  /** Fault injection: a malformed state payload (firmware bug, bit flip). */
  async garbage(payload: string | Uint8Array, opts: { topic?: string } = {}): Promise<void> {
    const c = this.client;
    if (!c?.connected) throw new HazriError("DEVICE_PORT_CLOSED", `seat sensor ${this.node} is offline`);
    await c.publishAsync(opts.topic ?? this.stateTopic, typeof payload === "string" ? payload : Buffer.from(payload), {
      qos: 1,
      retain: false,
    });
  }

  /** Power cut / Wi-Fi loss: close the TCP socket with no DISCONNECT so the broker fires the Will. */
  async goOffline(): Promise<void> {
    for (const t of this.lateTimers) clearTimeout(t);
    this.lateTimers.clear();
    const c = this.client;
    this.client = null;
    if (!c) return;
    c.options.reconnectPeriod = 0;
    await c.endAsync(true); // force: stream.destroy(), no DISCONNECT packet (mqtt.js _cleanUp)
  }

  /** Power back: reconnect, birth, current state. */
  async comeBack(timeoutMs = 10_000): Promise<void> {
    if (!this.url) throw new HazriError("CONFIG_INVALID", `seat sensor ${this.node} was never connected`);
    await this.connect(this.url, timeoutMs);
  }

  /** Clean shutdown for teardown: same as goOffline (the Will firing is realistic and harmless). */
  async close(): Promise<void> {
    if (this.flapTimer) clearInterval(this.flapTimer);
    this.flapTimer = null;
    if (this.teleTimer) clearInterval(this.teleTimer);
    this.teleTimer = null;
    await this.goOffline();
  }

  private async announce(client: MqttClient): Promise<void> {
    try {
      await client.publishAsync(this.statusTopic, this.dialect.online, { qos: 1, retain: true });
      if (this.discovery) {
        await client.publishAsync(this.discovery.topic, JSON.stringify(this.discovery.payload), { qos: 1, retain: true });
      }
      const b = this.behavior;
      if (this.occupied !== null && !b.stale && b.flapMs === 0) {
        await client.publishAsync(this.stateTopic, b.garbage ?? this.dialect.encode(this.occupied), { qos: 1, retain: this.dialect.retain });
      }
      this.startTele();
    } catch {
      /* connection dropped mid-announce; the next connect announces again */
    }
  }
}
