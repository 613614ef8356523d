/**
 * Several power devices at one center, on real InfluxDB 1.6.7 through the
 * server's ingest (docs/sla.md, Power: the center's state is the worst known
 * state of its devices, unknown only when none knows, and a restart drops
 * devices the new run does not report). A UPS and an inverter:
 *   25th 10:00  inverter link stale → the UPS still knows: no outage
 *   25th 11:00  UPS link stale too → power unknown (never up) until 11:30
 *   25th 11:45  inverter on battery, 12:00 its load without power, 12:10 back
 *   26th 09:30  inverter on battery; 10:00 the edge stops, 10:05 it restarts and
 *               only reports the UPS: the inverter's last word is not carried on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../protocol/clock.ts";
import type { HazriEvent, PowerSource } from "../protocol/events.ts";
import { createInfluxAdapter, type InfluxAdapter } from "../server/src/influx/adapter.ts";
import { monthPeriod, pktToUtc as T } from "../server/src/sla/calendar.ts";
import { parseSlaConfig } from "../server/src/sla/config.ts";
import { buildSlaReport, type CenterRow } from "../server/src/sla/report.ts";
import { startInfluxd, type InfluxInstance } from "./harness/index.ts";
import { scriptedIngest } from "./sla-ingest.ts";
import { edgeEvents, type TrueCenter } from "./sla-scenario.ts";

const P = monthPeriod("2026-03");
const ID = "two-05";
const MIN = 60_000;
let influx: InfluxInstance;
let adapter: InfluxAdapter;
let row: CenterRow;

const tc: TrueCenter = {
  centerId: ID,
  from: P.start - 3_600_000,
  to: P.end + 3_600_000,
  heartbeatMs: 300_000,
  phaseMs: 4_000,
  power: [{ t: P.start - 3_600_000, state: "mains" }],
  wan: [],
  edgeOff: [{ start: T("2026-03-26T10:00"), end: T("2026-03-26T10:05") }],
};

beforeAll(async () => {
  influx = await startInfluxd();
  adapter = await createInfluxAdapter({ kind: "v1", url: influx.url, database: "hazri" }, { logger: silentLogger });
  await adapter.ensureDatabase();
  // The UPS ("ups"): the scripted edge's own power device, with its link going stale and back.
  const events = edgeEvents(tc, [
    { t: T("2026-03-25T11:00"), state: "unknown" },
    { t: T("2026-03-25T11:30"), state: "mains" },
  ]);
  // The inverter: a second device on the same edge (same boot, later seqs).
  let seq = 2_000_000;
  const inverter = (t: number, source: PowerSource): HazriEvent => ({
    v: 1, centerId: ID, bootId: `boot-${ID}-0`, seq: seq++, ts: t, mono: t - tc.from, synced: true,
    type: "power", source, link: source === "unknown" ? "stale" : "ok", device: "inverter", ups: null, transition: true,
  });
  events.push(
    inverter(tc.from + 1_000, "mains"),
    inverter(T("2026-03-25T10:00"), "unknown"),
    inverter(T("2026-03-25T11:45"), "battery"),
    inverter(T("2026-03-25T12:00"), "down"),
    inverter(T("2026-03-25T12:10"), "mains"),
    inverter(T("2026-03-26T09:30"), "battery"),
  );
  const ing = scriptedIngest(adapter);
  await ing.send(events);
  await ing.close();
  const report = await buildSlaReport({ influx: adapter, clock: { now: () => P.end + 86_400_000 }, config: parseSlaConfig({ heartbeatS: 300 }) }, { month: "2026-03", centers: [ID] });
  row = report.centers[0]!;
}, 180_000);

afterAll(async () => {
  await adapter?.close();
  await influx?.stop();
});

describe("power from two devices (UPS + inverter) on InfluxDB 1.6.7", () => {
  it("one stale device is no outage; both stale = power unknown; the worst known state counts", () => {
    const fmt = (o: { start: number; end: number; cause: string }) => `${new Date(o.start).toISOString()}..${new Date(o.end).toISOString()} ${o.cause}`;
    expect(row.outages.map(fmt)).toEqual(
      [
        { start: T("2026-03-25T11:00"), end: T("2026-03-25T11:30"), cause: "power_unknown" },
        { start: T("2026-03-25T12:00"), end: T("2026-03-25T12:10"), cause: "ups_exhausted" },
        { start: T("2026-03-26T10:00") - 700, end: T("2026-03-26T10:05"), cause: "edge_dark" },
      ].map(fmt),
    );
    expect(row.outages.map((o) => o.counted)).toEqual(["unknown", "down", "unknown"]);
    expect(row.all.downMs).toBe(10 * MIN);
  });

  it("after the restart the inverter (not reported by the new run) is dropped: battery time is only the two real spans", () => {
    // 25th 11:45–12:00 and 26th 09:30 until the edge went dark (its last alive mark).
    expect(row.all.power.batteryMs).toBe(15 * MIN + (30 * MIN - 700));
    expect(row.all.power.unknownMs).toBe(30 * MIN + 5 * MIN + 700);
  });
});
