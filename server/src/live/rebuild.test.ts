import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import { HazriEvent } from "../../../protocol/events.ts";
import type { HazriEvent as HazriEventT } from "../../../protocol/events.ts";
import { eventToPoint } from "../../../protocol/influx.ts";
import type { InfluxAdapter, InfluxSeries } from "../influx/adapter.ts";
import { rebuildLiveState, rfc3339ToMs, rowToEvent } from "./rebuild.ts";
import { createLiveState } from "./state.ts";

/** What InfluxDB 1.x returns for a point: RFC3339 time with ns, tags and fields as columns, ints as numbers. */
function asRow(e: HazriEventT): { measurement: string; row: Record<string, unknown> } {
  const p = eventToPoint(e);
  const ns = BigInt(p.timeNs);
  const ms = Number(ns / 1_000_000n);
  const sub = (ns % 1_000_000_000n).toString().padStart(9, "0");
  const time = `${new Date(ms).toISOString().slice(0, 19)}.${sub}Z`;
  const row: Record<string, unknown> = { time, ...p.tags };
  for (const [k, v] of Object.entries(p.fields)) row[k] = typeof v === "object" ? v.int : v;
  return { measurement: p.measurement, row };
}

const base = { v: 1, centerId: "isb-01", bootId: "boot-abc1", mono: 1234.5, synced: true } as const;
const T = Date.UTC(2026, 10, 20, 9, 30, 1, 7);
const samples: HazriEventT[] = [
  { ...base, seq: 1, ts: T, type: "badge", door: "main", reader: "r1", direction: "in", cardId: "0A0B0C0D0E", memberId: "m-1", decision: "granted", reason: "ok", flagged: false },
  { ...base, seq: 2, ts: T, type: "badge", door: "main", reader: "r1", direction: "in", cardId: "0A0B0C0D0F", memberId: null, decision: "denied", reason: "unknown_card", flagged: true, flags: ["stale_cache", "clock_unsynced"] },
  { ...base, seq: 3, ts: T + 1, type: "door", door: "main", state: "forced_open" },
  { ...base, seq: 1_000_004, ts: T + 2, type: "seat", seat: "s-001", zone: "z1", state: "occupied", source: "ld2410" },
  { ...base, seq: 5, ts: T + 3, type: "power", source: "battery", link: "ok", device: "ups1", ups: { status: ["OB", "DISCHRG"], chargePct: 87, runtimeS: 1200, batteryV: 26.1, inputV: null, outputV: 229.5, loadPct: 31, tempC: null } },
  { ...base, seq: 6, ts: T + 4, type: "power", source: "mains", link: "stale", device: "ups1", ups: null, transition: true },
  { ...base, seq: 7, ts: T + 5, type: "uplink", state: "down", lastContactTs: T - 9000, cause: "close" },
  { ...base, seq: 8, ts: T + 6, type: "heartbeat", outboxDepth: 12, devices: { r1: "ok", ups1: "degraded" }, uplinkRttMs: null, uptimeS: 99.5, cacheVersion: 4, coalesced: 2, replay: { active: true, remaining: 10, ackedPerS: 55.5 }, clockOffsetMs: -12 },
  { ...base, seq: 9, ts: T + 7, synced: false, type: "alarm", alarm: "outbox_pressure", state: "start", depth: 5000, coalesced: 0 },
  { ...base, seq: 10, ts: T + 8, type: "clock", offsetMs: 1500.25, rttMs: 40 },
];

describe("rowToEvent (inverse of protocol/influx.ts eventToPoint)", () => {
  it.each(samples.map((e) => [e.type, e] as const))("%s round-trips exactly", (_t, e) => {
    const { measurement, row } = asRow(e);
    expect(rowToEvent(measurement, row)).toEqual(HazriEvent.parse(e));
  });

  it("ns time → ms; bad rows give null", () => {
    expect(rfc3339ToMs("2026-11-20T09:30:01.007000004Z")).toBe(T);
    expect(rfc3339ToMs("2026-11-20T09:30:01Z")).toBe(T - 7);
    expect(rowToEvent("seat", { time: "2026-11-20T09:30:01Z", center: "isb-01" })).toBeNull();
    expect(rowToEvent("nope", asRow(samples[2] as HazriEventT).row)).toBeNull();
  });
});

describe("rebuildLiveState", () => {
  it("applies what the queries return through the reducer (same view as applying the events)", async () => {
    const queries: string[] = [];
    const byMeasurement = new Map<string, InfluxSeries>();
    for (const e of samples) {
      const { measurement, row } = asRow(e);
      const s = byMeasurement.get(measurement) ?? { name: measurement, columns: [], values: [] };
      const cols = Object.keys(row);
      for (const c of cols) if (!s.columns.includes(c)) s.columns.push(c);
      byMeasurement.set(measurement, s);
      s.values.push(s.columns.map((c) => row[c] ?? null));
    }
    // Pad earlier rows to the final column list.
    for (const s of byMeasurement.values()) for (const v of s.values) while (v.length < s.columns.length) v.push(null);
    const influx = {
      async query(q: string) {
        queries.push(q);
        const m = /FROM "([^"]+)"/.exec(q)?.[1] ?? "";
        const s = byMeasurement.get(m);
        return s ? [s] : [];
      },
    } as unknown as InfluxAdapter;
    const rebuilt = createLiveState();
    const r = await rebuildLiveState({ influx, live: rebuilt, cutoff: T - 1000, logger: silentLogger });
    expect(r.skipped).toBe(0);
    const direct = createLiveState();
    direct.setCheckoutCutoff(T - 1000);
    rebuilt.setCheckoutCutoff(T - 1000);
    for (const e of samples) direct.apply(HazriEvent.parse(e));
    expect(rebuilt.center("isb-01")).toEqual(direct.center("isb-01"));
    expect(rebuilt.center("isb-01")?.peopleInCount).toBe(1);
    expect(queries.some((q) => q.includes(`time >= ${T - 1000}ms`))).toBe(true);
  });
});
