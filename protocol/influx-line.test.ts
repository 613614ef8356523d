import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { HazriEvent, SCHEMA_VERSION } from "./events.ts";
import { eventToLine, eventToLineReference, MEASUREMENTS } from "./influx.ts";

/**
 * The ingest serializer (`eventToLine`, a table per event type) must write exactly what the plain definition
 * (`eventToPoint` → `toLineProtocol`) writes, for every event the schema accepts: a field missed, misnamed,
 * typed as float instead of integer or out of order would silently change what InfluxDB stores.
 */
const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,12}$/);
const text = fc.string({ unit: fc.constantFrom("a", "Z", " ", ",", "=", '"', "\\", "\n", "é", "ز", "0"), minLength: 1, maxLength: 10 });
const float = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 });
const nonNeg = fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 1e9 });
const int = fc.integer({ min: 0, max: 2 ** 40 });
const opt = <T,>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const base = fc.record(
  {
    v: fc.constant(SCHEMA_VERSION),
    centerId: id,
    bootId: fc.stringMatching(/^[A-Za-z0-9_-]{6,20}$/),
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    ts: fc.integer({ min: 0, max: 8_640_000_000_000 }),
    mono: nonNeg,
    synced: fc.boolean(),
    tsCorrected: fc.boolean(),
  },
  { requiredKeys: ["v", "centerId", "bootId", "seq", "ts", "mono", "synced"] },
);
const ups = fc.record({
  status: fc.array(fc.constantFrom("OL", "OB", "LB", "CHRG", "DISCHRG", "BYPASS"), { maxLength: 4 }),
  chargePct: fc.option(fc.double({ noNaN: true, min: 0, max: 100 })),
  runtimeS: fc.option(nonNeg),
  batteryV: fc.option(float),
  inputV: fc.option(float),
  outputV: fc.option(float),
  loadPct: fc.option(float),
  tempC: fc.option(float),
});
const bodies: Record<HazriEvent["type"], fc.Arbitrary<Record<string, unknown>>> = {
  badge: fc.record(
    {
      door: id,
      reader: id,
      direction: fc.constantFrom("in", "out"),
      cardId: fc.stringMatching(/^[0-9A-F]{2,12}$/),
      memberId: fc.option(text),
      decision: fc.constantFrom("granted", "denied"),
      reason: fc.constantFrom("ok", "unknown_card", "suspended", "at_capacity"),
      flagged: fc.boolean(),
      flags: fc.array(fc.constantFrom("capacity", "antipassback", "stale_cache", "clock_unsynced"), { maxLength: 4 }),
    },
    { requiredKeys: ["door", "reader", "direction", "cardId", "memberId", "decision", "reason"] },
  ),
  door: fc.record({ door: id, state: fc.constantFrom("opened", "closed", "forced_open", "held_open", "unlocked", "locked") }),
  seat: fc.record({ seat: id, zone: id, state: fc.constantFrom("occupied", "vacant", "unknown"), source: fc.constantFrom("mqtt", "ld2410") }),
  power: fc.record(
    {
      source: fc.constantFrom("mains", "generator", "battery", "low_battery", "down", "unknown"),
      link: fc.constantFrom("ok", "stale", "none"),
      device: id,
      ups: fc.option(ups),
      transition: fc.boolean(),
    },
    { requiredKeys: ["source", "link", "device", "ups"] },
  ),
  uplink: fc.record(
    { state: fc.constantFrom("up", "down"), lastContactTs: int, cause: fc.constantFrom("connack", "close", "connect_failed") },
    { requiredKeys: ["state"] },
  ),
  heartbeat: fc.record(
    {
      outboxDepth: int,
      devices: fc.dictionary(text, fc.constantFrom("ok", "degraded", "down", "unknown"), { maxKeys: 3 }),
      uplinkRttMs: fc.option(nonNeg),
      uptimeS: nonNeg,
      cacheVersion: fc.option(int),
      coalesced: int,
      replay: fc.record({ active: fc.boolean(), remaining: int, ackedPerS: nonNeg }),
      clockOffsetMs: fc.option(float),
    },
    { requiredKeys: ["outboxDepth", "devices", "uplinkRttMs", "uptimeS"] },
  ),
  alarm: fc.record({ alarm: fc.constant("outbox_pressure"), state: fc.constantFrom("start", "end"), depth: int, coalesced: int }),
  clock: fc.record({ offsetMs: float, rttMs: nonNeg }),
  boot: fc.record({
    prevBootId: fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{6,20}$/)),
    prevAliveTs: fc.option(int),
    prevAliveSynced: fc.boolean(),
    prevEnd: fc.constantFrom("stop", "crash", "unknown"),
  }),
};
const anyEvent = fc.oneof(
  ...Object.entries(bodies).map(([type, body]) => fc.tuple(base, body).map(([b, x]) => HazriEvent.parse({ ...b, ...x, type }))),
);

describe("eventToLine (the ingest serializer)", () => {
  it("writes exactly the plain definition's line, for any valid event of every type", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(anyEvent, (e) => {
        seen.add(e.type);
        expect(eventToLine(e)).toBe(eventToLineReference(e));
      }),
      { numRuns: 5000 },
    );
    expect([...seen].sort()).toEqual(Object.keys(MEASUREMENTS).sort()); // every type was exercised
  });
  it("refuses a non-finite float like the plain definition", () => {
    const e = HazriEvent.parse({ v: 1, centerId: "c1", bootId: "boot-01", seq: 1, ts: 1, mono: 1, synced: true, type: "clock", offsetMs: 1, rttMs: 1 });
    const bad = { ...e, offsetMs: Number.POSITIVE_INFINITY } as HazriEvent;
    expect(() => eventToLineReference(bad)).toThrow(RangeError);
    expect(() => eventToLine(bad)).toThrow(RangeError);
  });
});
