import type { HazriEvent } from "./events.ts";

/**
 * InfluxDB mapping of every event type (documented in protocol/README.md).
 *
 * Point key = measurement + tag set + timestamp; a second write with the same
 * key overwrites the first (fields merged, new values win). We make the key a
 * pure function of the event, so a replayed event overwrites its earlier copy
 * instead of counting twice:
 *   timestamp (ns) = ts_ms * 1e6 + (seq mod 1e6)
 * The sub-millisecond part carries the sequence number, so two events of one
 * center in the same millisecond never share a key, while the millisecond
 * stays the capture time. Tags are bounded enums and configured device ids
 * only; member and card ids are fields, never tags (cardinality).
 */
export interface PointSpec {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | boolean | string | { int: number }>;
  /** Nanoseconds since epoch, as a decimal string (exceeds 2^53). */
  timeNs: string;
}

export const MEASUREMENTS = {
  badge: "access",
  door: "door",
  seat: "seat",
  power: "power",
  uplink: "uplink",
  heartbeat: "edge_heartbeat",
  alarm: "edge_alarm",
  clock: "edge_clock",
  boot: "edge_boot",
} as const satisfies Record<HazriEvent["type"], string>;

export function eventTimeNs(ts: number, seq: number): string {
  // = ts * 1e6 + seq mod 1e6, as a decimal string; string concatenation instead of BigInt arithmetic
  // (5× cheaper on the ingest path). ts is an integer ≥ 0 (protocol/events.ts).
  const sub = String(seq % 1_000_000);
  return ts === 0 ? sub : `${ts}${"000000".slice(sub.length)}${sub}`;
}

const num = (v: number | null | undefined): number | undefined => (v === null || v === undefined ? undefined : v);

export function eventToPoint(e: HazriEvent): PointSpec {
  const common = { seq: { int: e.seq }, boot: e.bootId, mono: e.mono, synced: e.synced, ...(e.tsCorrected ? { ts_corrected: true } : {}) };
  const timeNs = eventTimeNs(e.ts, e.seq);
  const tags: Record<string, string> = { center: e.centerId };
  switch (e.type) {
    case "badge":
      return {
        measurement: MEASUREMENTS.badge,
        tags: { ...tags, door: e.door, direction: e.direction, decision: e.decision, reason: e.reason },
        fields: {
          ...common,
          card: e.cardId,
          member: e.memberId ?? "",
          reader: e.reader,
          granted: { int: e.decision === "granted" ? 1 : 0 },
          flagged: e.flagged,
          ...(e.flags?.length ? { flags: e.flags.join(" ") } : {}),
        },
        timeNs,
      };
    case "door":
      return { measurement: MEASUREMENTS.door, tags: { ...tags, door: e.door }, fields: { ...common, state: e.state }, timeNs };
    case "seat":
      return {
        measurement: MEASUREMENTS.seat,
        tags: { ...tags, zone: e.zone, seat: e.seat },
        fields: {
          ...common,
          state: e.state,
          occupied: { int: e.state === "occupied" ? 1 : 0 },
          known: e.state !== "unknown",
          source: e.source,
        },
        timeNs,
      };
    case "power": {
      const f: PointSpec["fields"] = { ...common, source: e.source, link: e.link, device: e.device };
      if (e.transition !== undefined) f.transition = e.transition;
      if (e.ups) {
        f.ups_status = e.ups.status.join(" ");
        const extra: Record<string, number | undefined> = {
          charge_pct: num(e.ups.chargePct),
          runtime_s: num(e.ups.runtimeS),
          battery_v: num(e.ups.batteryV),
          input_v: num(e.ups.inputV),
          output_v: num(e.ups.outputV),
          load_pct: num(e.ups.loadPct),
          temp_c: num(e.ups.tempC),
        };
        for (const [k, v] of Object.entries(extra)) if (v !== undefined) f[k] = v;
      }
      return { measurement: MEASUREMENTS.power, tags, fields: f, timeNs };
    }
    case "uplink":
      return {
        measurement: MEASUREMENTS.uplink,
        tags,
        fields: {
          ...common,
          state: e.state,
          up: { int: e.state === "up" ? 1 : 0 },
          ...(e.lastContactTs !== undefined ? { last_contact_ts: { int: e.lastContactTs } } : {}),
          ...(e.cause !== undefined ? { cause: e.cause } : {}),
        },
        timeNs,
      };
    case "heartbeat":
      return {
        measurement: MEASUREMENTS.heartbeat,
        tags,
        fields: {
          ...common,
          outbox_depth: { int: e.outboxDepth },
          rtt_ms: e.uplinkRttMs ?? -1,
          uptime_s: e.uptimeS,
          devices: JSON.stringify(e.devices),
          ...(e.cacheVersion !== undefined && e.cacheVersion !== null ? { cache_version: { int: e.cacheVersion } } : {}),
          ...(e.coalesced !== undefined ? { coalesced: { int: e.coalesced } } : {}),
          ...(e.replay ? { replay_active: e.replay.active, replay_remaining: { int: e.replay.remaining }, replay_rate: e.replay.ackedPerS } : {}),
          ...(e.clockOffsetMs !== undefined && e.clockOffsetMs !== null ? { clock_offset_ms: e.clockOffsetMs } : {}),
        },
        timeNs,
      };
    case "alarm":
      return {
        measurement: MEASUREMENTS.alarm,
        tags: { ...tags, alarm: e.alarm },
        fields: { ...common, state: e.state, depth: { int: e.depth }, coalesced: { int: e.coalesced } },
        timeNs,
      };
    case "clock":
      return { measurement: MEASUREMENTS.clock, tags, fields: { ...common, offset_ms: e.offsetMs, rtt_ms: e.rttMs }, timeNs };
    case "boot":
      return {
        measurement: MEASUREMENTS.boot,
        tags,
        fields: {
          ...common,
          prev_boot: e.prevBootId ?? "",
          // -1 = unknown (a field cannot be null in line protocol)
          prev_alive_ts: { int: e.prevAliveTs ?? -1 },
          prev_alive_synced: e.prevAliveSynced,
          prev_end: e.prevEnd,
        },
        timeNs,
      };
  }
}

// Line protocol escaping rules: measurement escapes ',' and ' '; tag keys,
// tag values and field keys escape ',', '=' and ' '; string field values
// escape '"' and '\'. (InfluxDB line protocol reference, "Special characters".)
// Each escape first tests whether there is anything to escape: almost nothing has, and a replace with a
// callback costs more than the test (the serializer was about a third of the server's CPU per ingested event).
const MEAS_SPECIAL = /[, \\]/;
const KEY_SPECIAL = /[,= \\]/;
const STR_SPECIAL = /["\\\n]/;
const escMeasurement = (s: string) => (MEAS_SPECIAL.test(s) ? s.replace(/[, \\]/g, (c) => `\\${c}`) : s);
const escKey = (s: string) => (KEY_SPECIAL.test(s) ? s.replace(/[,= \\]/g, (c) => `\\${c}`) : s);
const escString = (s: string) => (STR_SPECIAL.test(s) ? s.replace(/["\\]/g, (c) => `\\${c}`).replace(/\n/g, "\\n") : s);
// Tag and field keys come from a small fixed set (this file): escape each once.
const keyCache = new Map<string, string>();
const escKeyCached = (k: string): string => {
  let v = keyCache.get(k);
  if (v === undefined) {
    v = escKey(k);
    if (keyCache.size < 1024) keyCache.set(k, v);
  }
  return v;
};

function fieldValue(v: PointSpec["fields"][string]): string {
  if (typeof v === "object") return `${Math.trunc(v.int)}i`;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new RangeError("line protocol cannot carry a non-finite float");
    return String(v);
  }
  return `"${escString(v)}"`;
}

/** Serialize one point to InfluxDB line protocol (tags sorted, as InfluxDB recommends). */
export function toLineProtocol(p: PointSpec): string {
  let line = escMeasurement(p.measurement);
  for (const k of Object.keys(p.tags).sort()) line += `,${escKeyCached(k)}=${escKey(p.tags[k] as string)}`;
  let sep = " ";
  for (const k of Object.keys(p.fields).sort()) {
    line += `${sep}${escKeyCached(k)}=${fieldValue(p.fields[k] as PointSpec["fields"][string])}`;
    sep = ",";
  }
  return `${line} ${p.timeNs}`;
}

export function eventToLine(e: HazriEvent): string {
  return toLineProtocol(eventToPoint(e));
}
