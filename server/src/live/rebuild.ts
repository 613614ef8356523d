import { HazriEvent } from "../../../protocol/events.ts";
import type { HazriEvent as HazriEventT } from "../../../protocol/events.ts";
import { MEASUREMENTS } from "../../../protocol/influx.ts";
import type { Logger } from "../../../protocol/clock.ts";
import type { InfluxAdapter, InfluxSeries } from "../influx/adapter.ts";
import { LAST_EVENTS } from "./state.ts";
import type { LiveState } from "./state.ts";

/**
 * Live state after a server restart (issue 5, "Live state"): the points in
 * InfluxDB are the deduplicated events (the point key is a pure function of
 * the event, protocol/influx.ts), so we read back just enough of them and feed
 * them through the SAME idempotent reducer the ingest uses:
 *  - the newest few points per seat / door / power series (the reducer keeps
 *    the highest seq among them),
 *  - every granted badge since the daily cut-off (people in),
 *  - the newest LAST_EVENTS points per center and measurement (recent events,
 *    last seen).
 * Edge online/offline is NOT here: it comes from the retained `up/status`
 * messages the broker delivers when the server subscribes.
 *
 * Known limit: "newest" is by point time (= event ts); the reducer orders by
 * seq. They agree unless an edge's wall clock jumped backwards between two
 * events of the same slot within the last PER_SLOT points.
 */

/** Points read per seat/door/power series. */
export const PER_SLOT = 5;

type Row = Record<string, unknown>;

/** RFC3339 with up to ns precision → epoch ms (the sub-ms part is `seq mod 1e6`, not time). */
export function rfc3339ToMs(s: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(s);
  if (!m) return Number.NaN;
  const ms = (m[2] ?? "").padEnd(3, "0").slice(0, 3);
  return Date.parse(`${m[1]}.${ms}Z`);
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const numOrNull = (v: unknown): number | null => (typeof v === "number" ? v : null);

/**
 * Inverse of `eventToPoint` for one InfluxQL row (tags and fields as columns).
 * Returns null for a row that does not make a valid event (the schema decides).
 */
export function rowToEvent(measurement: string, row: Row): HazriEventT | null {
  const time = str(row.time);
  if (time === undefined) return null;
  const base = {
    v: 1,
    centerId: row.center,
    bootId: row.boot,
    seq: row.seq,
    ts: rfc3339ToMs(time),
    mono: row.mono,
    synced: row.synced,
  };
  let e: Record<string, unknown>;
  switch (measurement) {
    case MEASUREMENTS.badge:
      e = {
        ...base,
        type: "badge",
        door: row.door,
        reader: row.reader,
        direction: row.direction,
        cardId: row.card,
        memberId: row.member === "" || row.member === undefined || row.member === null ? null : row.member,
        decision: row.decision,
        reason: row.reason,
        flagged: row.flagged ?? false,
        ...(typeof row.flags === "string" && row.flags !== "" ? { flags: row.flags.split(" ") } : {}),
      };
      break;
    case MEASUREMENTS.door:
      e = { ...base, type: "door", door: row.door, state: row.state };
      break;
    case MEASUREMENTS.seat:
      e = { ...base, type: "seat", seat: row.seat, zone: row.zone, state: row.state, source: row.source };
      break;
    case MEASUREMENTS.power: {
      const status = str(row.ups_status);
      e = {
        ...base,
        type: "power",
        source: row.source,
        link: row.link,
        device: row.device,
        ...(typeof row.transition === "boolean" ? { transition: row.transition } : {}),
        ups:
          status === undefined
            ? null
            : {
                status: status === "" ? [] : status.split(" "),
                chargePct: numOrNull(row.charge_pct),
                runtimeS: numOrNull(row.runtime_s),
                batteryV: numOrNull(row.battery_v),
                inputV: numOrNull(row.input_v),
                outputV: numOrNull(row.output_v),
                loadPct: numOrNull(row.load_pct),
                tempC: numOrNull(row.temp_c),
              },
      };
      break;
    }
    case MEASUREMENTS.uplink:
      e = {
        ...base,
        type: "uplink",
        state: row.state,
        ...(row.last_contact_ts !== undefined ? { lastContactTs: row.last_contact_ts } : {}),
        ...(row.cause !== undefined ? { cause: row.cause } : {}),
      };
      break;
    case MEASUREMENTS.heartbeat: {
      let devices: unknown = {};
      try {
        devices = JSON.parse(str(row.devices) ?? "{}");
      } catch {
        return null;
      }
      const rtt = row.rtt_ms;
      e = {
        ...base,
        type: "heartbeat",
        outboxDepth: row.outbox_depth,
        devices,
        uplinkRttMs: typeof rtt === "number" && rtt >= 0 ? rtt : null,
        uptimeS: row.uptime_s,
        // Lossy in the mapping: a null cacheVersion/clockOffsetMs is not written, so it comes back absent.
        ...(row.cache_version !== undefined ? { cacheVersion: row.cache_version } : {}),
        ...(row.coalesced !== undefined ? { coalesced: row.coalesced } : {}),
        ...(row.replay_active !== undefined
          ? { replay: { active: row.replay_active, remaining: row.replay_remaining, ackedPerS: row.replay_rate } }
          : {}),
        ...(row.clock_offset_ms !== undefined ? { clockOffsetMs: row.clock_offset_ms } : {}),
      };
      break;
    }
    case MEASUREMENTS.alarm:
      e = { ...base, type: "alarm", alarm: row.alarm, state: row.state, depth: row.depth, coalesced: row.coalesced };
      break;
    case MEASUREMENTS.clock:
      e = { ...base, type: "clock", offsetMs: row.offset_ms, rttMs: row.rtt_ms };
      break;
    default:
      return null;
  }
  const r = HazriEvent.safeParse(e);
  return r.success ? r.data : null;
}

function* rows(series: InfluxSeries[]): Generator<[string, Row]> {
  for (const s of series)
    for (const v of s.values) {
      const row: Row = { ...(s.tags ?? {}) };
      s.columns.forEach((c, i) => {
        if (v[i] !== null && v[i] !== undefined) row[c] = v[i];
      });
      yield [s.name, row];
    }
}

export interface RebuildResult {
  events: number;
  skipped: number;
  ms: number;
}

/**
 * Query InfluxDB and apply what it holds to `live`. `cutoff` is the last daily
 * check-out instant (epoch ms): badges before it cannot make anyone "in".
 */
export async function rebuildLiveState(o: {
  influx: InfluxAdapter;
  live: LiveState;
  cutoff: number;
  logger: Logger;
  now?: () => number;
}): Promise<RebuildResult> {
  const started = (o.now ?? Date.now)();
  const q = (m: string) => `"${m}"`;
  const statements = [
    // GROUP BY * = one series per tag set: per seat (center, zone, seat), per door, per center for power.
    `SELECT * FROM ${q(MEASUREMENTS.seat)} GROUP BY * ORDER BY time DESC LIMIT ${PER_SLOT}`,
    `SELECT * FROM ${q(MEASUREMENTS.door)} GROUP BY * ORDER BY time DESC LIMIT ${PER_SLOT}`,
    `SELECT * FROM ${q(MEASUREMENTS.power)} GROUP BY * ORDER BY time DESC LIMIT ${PER_SLOT}`,
    // Time of a point = ts ms * 1e6 + seq mod 1e6, so "time >= cutoff ms" is exactly "ts >= cutoff".
    `SELECT * FROM ${q(MEASUREMENTS.badge)} WHERE "decision" = 'granted' AND time >= ${Math.max(0, Math.floor(o.cutoff))}ms GROUP BY "center"`,
    ...Object.values(MEASUREMENTS).map(
      (m) => `SELECT * FROM ${q(m)} GROUP BY "center" ORDER BY time DESC LIMIT ${LAST_EVENTS}`,
    ),
  ];
  let events = 0;
  let skipped = 0;
  for (const s of statements) {
    const series = await o.influx.query(s);
    for (const [m, row] of rows(series)) {
      const e = rowToEvent(m, row);
      if (e === null) {
        skipped++;
        continue;
      }
      o.live.apply(e);
      events++;
    }
  }
  const ms = (o.now ?? Date.now)() - started;
  o.logger.info({ events, skipped, ms }, "live state rebuilt from InfluxDB");
  return { events, skipped, ms };
}
