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

/**
 * The plain definition of an event's line: `eventToPoint` then `toLineProtocol`. `eventToLine` below writes
 * the same string without the intermediate objects; the property test in protocol.test.ts holds them equal.
 */
export function eventToLineReference(e: HazriEvent): string {
  return toLineProtocol(eventToPoint(e));
}

// ---- the ingest serializer -------------------------------------------------------------------------------
// eventToPoint builds two objects per event with spreads and sorts their keys; on the server's ingest path
// that was the largest single cost per event (≈ 13 µs of ≈ 35). Here each type is a table of its tags and
// fields, sorted once at load time by the same comparator toLineProtocol uses (Array.prototype.sort on the
// keys), and a line is written straight from the event. A getter returning undefined omits the field.

type Ev<T extends HazriEvent["type"]> = Extract<HazriEvent, { type: T }>;
type Get<T extends HazriEvent["type"]> = (e: Ev<T>) => string | number | boolean | undefined;
/** [key, getter, integer?]: an integer field is written `<n>i`, any other number as a float. */
type Field<T extends HazriEvent["type"]> = readonly [key: string, get: Get<T>, int?: true];
interface Table {
  measurement: string;
  tags: ReadonlyArray<readonly [string, (e: never) => string]>;
  fields: ReadonlyArray<readonly [string, (e: never) => string | number | boolean | undefined, true | undefined]>;
}

function table<T extends HazriEvent["type"]>(type: T, tags: ReadonlyArray<readonly [string, (e: Ev<T>) => string]>, fields: ReadonlyArray<Field<T>>): Table {
  const common: ReadonlyArray<Field<T>> = [
    ["seq", (e) => e.seq, true],
    ["boot", (e) => e.bootId],
    ["mono", (e) => e.mono],
    ["synced", (e) => e.synced],
    ["ts_corrected", (e) => (e.tsCorrected ? true : undefined)],
  ];
  const byKey = <X extends readonly [string, ...unknown[]]>(xs: readonly X[]) => {
    const keys = xs.map((x) => x[0]).sort();
    return keys.map((k) => xs.find((x) => x[0] === k) as X);
  };
  const all = [...common, ...fields];
  return {
    measurement: escMeasurement(MEASUREMENTS[type]),
    tags: byKey([["center", (e: Ev<T>) => e.centerId] as const, ...tags]).map(([k, g]) => [escKey(k), g as (e: never) => string] as const),
    fields: byKey(all).map(([k, g, i]) => [escKey(k), g as (e: never) => string | number | boolean | undefined, i] as const),
  };
}

const TABLES: { [T in HazriEvent["type"]]: Table } = {
  badge: table(
    "badge",
    [["door", (e) => e.door], ["direction", (e) => e.direction], ["decision", (e) => e.decision], ["reason", (e) => e.reason]],
    [
      ["card", (e) => e.cardId],
      ["member", (e) => e.memberId ?? ""],
      ["reader", (e) => e.reader],
      ["granted", (e) => (e.decision === "granted" ? 1 : 0), true],
      ["flagged", (e) => e.flagged],
      ["flags", (e) => (e.flags?.length ? e.flags.join(" ") : undefined)],
    ],
  ),
  door: table("door", [["door", (e) => e.door]], [["state", (e) => e.state]]),
  seat: table(
    "seat",
    [["zone", (e) => e.zone], ["seat", (e) => e.seat]],
    [
      ["state", (e) => e.state],
      ["occupied", (e) => (e.state === "occupied" ? 1 : 0), true],
      ["known", (e) => e.state !== "unknown"],
      ["source", (e) => e.source],
    ],
  ),
  power: table(
    "power",
    [],
    [
      ["source", (e) => e.source],
      ["link", (e) => e.link],
      ["device", (e) => e.device],
      ["transition", (e) => e.transition],
      ["ups_status", (e) => e.ups?.status.join(" ")],
      ["charge_pct", (e) => num(e.ups?.chargePct)],
      ["runtime_s", (e) => num(e.ups?.runtimeS)],
      ["battery_v", (e) => num(e.ups?.batteryV)],
      ["input_v", (e) => num(e.ups?.inputV)],
      ["output_v", (e) => num(e.ups?.outputV)],
      ["load_pct", (e) => num(e.ups?.loadPct)],
      ["temp_c", (e) => num(e.ups?.tempC)],
    ],
  ),
  uplink: table(
    "uplink",
    [],
    [
      ["state", (e) => e.state],
      ["up", (e) => (e.state === "up" ? 1 : 0), true],
      ["last_contact_ts", (e) => e.lastContactTs, true],
      ["cause", (e) => e.cause],
    ],
  ),
  heartbeat: table(
    "heartbeat",
    [],
    [
      ["outbox_depth", (e) => e.outboxDepth, true],
      ["rtt_ms", (e) => e.uplinkRttMs ?? -1],
      ["uptime_s", (e) => e.uptimeS],
      ["devices", (e) => JSON.stringify(e.devices)],
      ["cache_version", (e) => num(e.cacheVersion), true],
      ["coalesced", (e) => e.coalesced, true],
      ["replay_active", (e) => e.replay?.active],
      ["replay_remaining", (e) => e.replay?.remaining, true],
      ["replay_rate", (e) => e.replay?.ackedPerS],
      ["clock_offset_ms", (e) => num(e.clockOffsetMs)],
    ],
  ),
  alarm: table(
    "alarm",
    [["alarm", (e) => e.alarm]],
    [
      ["state", (e) => e.state],
      ["depth", (e) => e.depth, true],
      ["coalesced", (e) => e.coalesced, true],
    ],
  ),
  clock: table(
    "clock",
    [],
    [
      ["offset_ms", (e) => e.offsetMs],
      ["rtt_ms", (e) => e.rttMs],
    ],
  ),
  boot: table(
    "boot",
    [],
    [
      ["prev_boot", (e) => e.prevBootId ?? ""],
      ["prev_alive_ts", (e) => e.prevAliveTs ?? -1, true],
      ["prev_alive_synced", (e) => e.prevAliveSynced],
      ["prev_end", (e) => e.prevEnd],
    ],
  ),
};

/** One event as a line of InfluxDB line protocol: exactly `eventToLineReference(e)`, several times faster. */
export function eventToLine(e: HazriEvent): string {
  const t = TABLES[e.type];
  let line = t.measurement;
  for (const [k, get] of t.tags) line += `,${k}=${escKey((get as (e: HazriEvent) => string)(e))}`;
  let sep = " ";
  for (const [k, get, int] of t.fields) {
    const v = (get as (e: HazriEvent) => string | number | boolean | undefined)(e);
    if (v === undefined) continue;
    line += sep + k + "=";
    if (int === true) line += `${Math.trunc(v as number)}i`;
    else if (typeof v === "string") line += `"${escString(v)}"`;
    else if (typeof v === "boolean") line += v ? "true" : "false";
    else {
      if (!Number.isFinite(v)) throw new RangeError("line protocol cannot carry a non-finite float");
      line += String(v);
    }
    sep = ",";
  }
  return `${line} ${eventTimeNs(e.ts, e.seq)}`;
}
