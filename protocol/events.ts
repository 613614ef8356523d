import { z } from "zod";
import { BootId, CardId, CenterId, DeviceId, MemberId } from "./ids.ts";

/** Schema version carried by every event and envelope. Bump on a breaking change. */
export const SCHEMA_VERSION = 1 as const;

/**
 * Fields every event carries. Together `(centerId, seq)` identify an event for
 * ever: `seq` is allocated by the edge's outbox in the same SQLite transaction
 * that stores the event and survives restarts, so a replay re-sends the same
 * `(centerId, seq)` and the InfluxDB point key (see influx.ts) is the same.
 *
 * Time follows the reliability matrix §0.7: wall time can be wrong after a
 * power cut on a box without RTC, so we also carry the boot id and a monotonic
 * reading, and say whether the wall clock was synced when the event was taken.
 */
const EventBase = z.object({
  v: z.literal(SCHEMA_VERSION),
  centerId: CenterId,
  bootId: BootId,
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** Wall-clock epoch milliseconds at capture (integer). */
  ts: z.number().int().min(0).max(8_640_000_000_000),
  /** Monotonic milliseconds since the edge process booted. */
  mono: z.number().min(0),
  /** Whether the edge's wall clock was trusted (NTP or server sync) at capture. */
  synced: z.boolean(),
  /**
   * Optional, additive (edge issue 3): `ts` was taken unsynced and corrected by the edge, once, before
   * the event was first sent: ts = trueNow − (monoNow − mono) after the edge adopted server time in the
   * same boot. `synced` stays false (the capture itself was unsynced); error ± the sync's rtt/2.
   */
  tsCorrected: z.boolean().optional(),
});

export const AccessDecision = z.enum(["granted", "denied"]);
/** Every decision names its reason; `ok` is the reason of a grant. */
export const AccessReason = z.enum([
  "ok",
  "unknown_card",
  "inactive",
  "plan_expired",
  "center_not_allowed",
  "outside_schedule",
  "suspended",
  "at_capacity",
  "stale_cache",
  "staff_only",
  /** validFrom (inclusive PKT date) is still in the future (edge issue 3, additive). */
  "plan_not_started",
]);

/**
 * Soft findings on a badge decision (additive, optional): the decision stands,
 * the flag is evidence. capacity: granted over capacity (allow-and-flag mode);
 * antipassback: an "in" while already in (soft APB, never enforced); stale_cache:
 * decided from a member cache older than the staleness limit; clock_unsynced:
 * date/schedule rules used a wall clock that was not synced.
 */
export const BadgeFlag = z.enum(["capacity", "antipassback", "stale_cache", "clock_unsynced"]);

export const BadgeEvent = EventBase.extend({
  type: z.literal("badge"),
  door: DeviceId,
  reader: DeviceId,
  direction: z.enum(["in", "out"]),
  cardId: CardId,
  /** null when the card is not in the member cache. */
  memberId: MemberId.nullable(),
  decision: AccessDecision,
  reason: AccessReason,
  /** A grant taken although a rule would deny it (e.g. capacity in allow-and-flag mode). */
  flagged: z.boolean().default(false),
  /** Which soft findings apply (absent = none); `flagged` stays true for capacity grants. */
  flags: z.array(BadgeFlag).max(8).optional(),
});

export const DoorEvent = EventBase.extend({
  type: z.literal("door"),
  door: DeviceId,
  /** forced_open: opened with no grant shortly before; held_open: open past the limit. */
  state: z.enum(["opened", "closed", "forced_open", "held_open", "unlocked", "locked"]),
});

export const SeatEvent = EventBase.extend({
  type: z.literal("seat"),
  seat: DeviceId,
  zone: DeviceId,
  /** unknown: the sensor is offline (LWT) or silent. */
  state: z.enum(["occupied", "vacant", "unknown"]),
  source: z.enum(["mqtt", "ld2410"]),
});

/** Power source as the centre experiences it. `unknown` = no trustworthy reading. */
export const PowerSource = z.enum(["mains", "generator", "battery", "low_battery", "down", "unknown"]);

export const UpsMetrics = z.object({
  /** NUT ups.status tokens (OL, OB, LB, CHRG, ...) as a set, §5.4. */
  status: z.array(z.string().regex(/^[A-Z]{1,10}$/)).max(16),
  chargePct: z.number().min(0).max(100).nullable(),
  runtimeS: z.number().min(0).nullable(),
  batteryV: z.number().nullable(),
  inputV: z.number().nullable(),
  outputV: z.number().nullable(),
  loadPct: z.number().nullable(),
  tempC: z.number().nullable(),
});

export const PowerEvent = EventBase.extend({
  type: z.literal("power"),
  source: PowerSource,
  /** The link to the UPS/inverter: stale is its own state (NUT COMMBAD), never "fine" and never "down". */
  link: z.enum(["ok", "stale", "none"]),
  device: DeviceId,
  ups: UpsMetrics.nullable(),
  /**
   * true: the (source, link) state changed at `ts` (the edge's power ledger, for
   * uptime); false: a periodic metrics sample. Absent on events from older edges.
   */
  transition: z.boolean().optional(),
});

/** The edge's own ledger of its uplink, so WAN outages are evidence, not gaps. */
export const UplinkEvent = EventBase.extend({
  type: z.literal("uplink"),
  state: z.enum(["up", "down"]),
  /**
   * For `down`: wall ms of the last packet received from the broker. The drop
   * is only noticed at a keepalive timeout (MQTT 3.1.1 §3.1.2.10, up to 1.5 ×
   * keepalive later), so this, not `ts`, is the best estimate of when the WAN
   * went down. Optional, additive.
   */
  lastContactTs: z.number().int().min(0).optional(),
  /** What the edge observed: connack, close (socket closed/keepalive timeout), connect_failed. */
  cause: z.enum(["connack", "close", "connect_failed"]).optional(),
});

export const HeartbeatEvent = EventBase.extend({
  type: z.literal("heartbeat"),
  outboxDepth: z.number().int().min(0),
  /** Device id → health. */
  devices: z.record(z.string(), z.enum(["ok", "degraded", "down", "unknown"])),
  uplinkRttMs: z.number().min(0).nullable(),
  uptimeS: z.number().min(0),
  // Optional, additive (edge issue 3):
  /** Member cache version in use (null: none yet). */
  cacheVersion: z.number().int().min(0).nullable().optional(),
  /** Seat/heartbeat events coalesced under outbox pressure since the outbox was created (persisted). */
  coalesced: z.number().int().min(0).optional(),
  /** Backlog replay after an outage: events still queued and the send rate. */
  replay: z
    .object({ active: z.boolean(), remaining: z.number().int().min(0), ackedPerS: z.number().min(0) })
    .optional(),
  /** Correction the edge applies to its base wall clock (ms), when synced from the server. */
  clockOffsetMs: z.number().nullable().optional(),
});

/**
 * Edge alarms (additive union member). outbox_pressure: the outbox reached
 * `seatCoalesceAt` (start) and seat telemetry is being coalesced; `end` when
 * it drained below. `coalesced` is the persisted running total.
 */
export const AlarmEvent = EventBase.extend({
  type: z.literal("alarm"),
  alarm: z.enum(["outbox_pressure"]),
  state: z.enum(["start", "end"]),
  depth: z.number().int().min(0),
  coalesced: z.number().int().min(0),
});

/**
 * The edge adopted server time (additive union member). The edge itself then
 * corrects its never-sent `synced: false` events of the same `bootId`, once,
 * before their first send: trueTs(e) = clock.ts - (clock.mono - e.mono),
 * because `mono` never jumps within a boot (reliability matrix §0.7); they
 * carry `tsCorrected: true`. `offsetMs` is what the edge added to its base
 * clock; `rttMs` bounds the error (± rtt/2, Cristian).
 */
export const ClockEvent = EventBase.extend({
  type: z.literal("clock"),
  offsetMs: z.number(),
  rttMs: z.number().min(0),
});

/**
 * The edge process started (additive union member), with what it knows of its previous run from its
 * alive marker: a small file the edge overwrites (and fdatasyncs) every `aliveMarkS` seconds with its
 * boot id and wall time, and marks `stopped` on a clean stop. After a power cut or a crash, `prevAliveTs`
 * is the last moment the previous run is known to have been alive: the start of the dark period, to
 * within the mark interval (the SLA's "edge dark" outage start). null when unknown (first start, no
 * marker, unreadable marker).
 */
export const BootEvent = EventBase.extend({
  type: z.literal("boot"),
  prevBootId: BootId.nullable(),
  prevAliveTs: z.number().int().min(0).nullable(),
  /** Whether the wall clock was synced when the previous run wrote its last mark. */
  prevAliveSynced: z.boolean(),
  /** stop: the previous run ended cleanly (SIGTERM/SIGINT); crash: it did not (power cut, kill, crash); unknown: no marker. */
  prevEnd: z.enum(["stop", "crash", "unknown"]),
});

export const HazriEvent = z.discriminatedUnion("type", [
  BadgeEvent,
  DoorEvent,
  SeatEvent,
  PowerEvent,
  UplinkEvent,
  HeartbeatEvent,
  AlarmEvent,
  ClockEvent,
  BootEvent,
]);

export type HazriEvent = z.infer<typeof HazriEvent>;
export type BadgeEvent = z.infer<typeof BadgeEvent>;
export type DoorEvent = z.infer<typeof DoorEvent>;
export type SeatEvent = z.infer<typeof SeatEvent>;
export type PowerEvent = z.infer<typeof PowerEvent>;
export type UplinkEvent = z.infer<typeof UplinkEvent>;
export type HeartbeatEvent = z.infer<typeof HeartbeatEvent>;
export type AlarmEvent = z.infer<typeof AlarmEvent>;
export type ClockEvent = z.infer<typeof ClockEvent>;
export type BootEvent = z.infer<typeof BootEvent>;
export type BadgeFlag = z.infer<typeof BadgeFlag>;
export type UpsMetrics = z.infer<typeof UpsMetrics>;
export type AccessReason = z.infer<typeof AccessReason>;
export type PowerSource = z.infer<typeof PowerSource>;
export type EventType = HazriEvent["type"];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** What a producer hands the outbox: everything but the fields the outbox and clock assign. */
export type EventDraft = DistributiveOmit<HazriEvent, "v" | "centerId" | "bootId" | "seq" | "ts" | "mono" | "synced">;
