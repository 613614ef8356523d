import { describe, expect, it } from "vitest";
import { DICTS } from "./i18n.ts";
import { errorKind } from "./api.ts";
import { parseRoute } from "./main.ts";
import {
  feedItems,
  filterRows,
  fmtTime,
  monthRange,
  networkRows,
  outagesFromTimelines,
  seatZones,
  sortRows,
  stepSegments,
  toCsv,
  type CenterSummary,
  type SlaReport,
} from "./model.ts";

const c = (id: string, o: Partial<CenterSummary> = {}): CenterSummary => ({
  centerId: id,
  name: null,
  peopleInCount: 0,
  seatsOccupied: 0,
  seatsTotal: 0,
  doorsOpen: 0,
  powerSource: "mains",
  edgeOnline: true,
  lastEventTs: null,
  ...o,
});

describe("network table", () => {
  const sla = {
    month: "2026-11",
    targetPct: 99,
    minCompletenessPct: 95,
    coveredUntil: 0,
    centers: [
      { centerId: "b", name: "B", breaches: ["availability"], outages: [], all: {} as never, excluding: { availabilityPct: 97.5, completenessPct: 99 } as never },
      { centerId: "a", name: "A", breaches: [], outages: [], all: {} as never, excluding: { availabilityPct: 99.9, completenessPct: 100 } as never },
      { centerId: "d", name: "D", breaches: ["completeness"], outages: [], all: {} as never, excluding: { availabilityPct: null, completenessPct: 0 } as never },
    ],
  } as SlaReport;
  const rows = networkRows([c("a", { peopleInCount: 5 }), c("b", { powerSource: "battery" }), c("c", { edgeOnline: false, name: "Quetta" }), c("d", { edgeOnline: null, powerSource: null })], sla);

  it("flags offline, never seen, not-on-mains and SLA breaches; joins the SLA figures and target", () => {
    expect(rows.map((r) => [r.centerId, r.alerts])).toEqual([["a", []], ["b", ["power", "sla"]], ["c", ["offline"]], ["d", ["never_seen", "sla"]]]);
    expect(rows.find((r) => r.centerId === "b")).toMatchObject({ slaPct: 97.5, slaCompletenessPct: 99, slaTarget: 99, slaBreaches: ["availability"], breach: true });
    expect(rows.find((r) => r.centerId === "c")).toMatchObject({ slaPct: null, slaCompletenessPct: null, slaBreaches: [], breach: false }); // not in the report
    expect(rows.find((r) => r.centerId === "d")).toMatchObject({ slaPct: null, slaCompletenessPct: 0, slaBreaches: ["completeness"] });
  });
  it("sorts by each column both ways, ties by center id", () => {
    expect(sortRows(rows, "people", -1).map((r) => r.centerId)).toEqual(["a", "b", "c", "d"]);
    expect(sortRows(rows, "power", 1).map((r) => r.centerId)).toEqual(["d", "b", "a", "c"]);
    expect(sortRows(rows, "sla", 1).map((r) => r.centerId)).toEqual(["c", "d", "b", "a"]);
    expect(sortRows(rows, "center", -1).map((r) => r.centerId)).toEqual(["c", "d", "b", "a"]); // "quetta" > "d" > "b" > "a"
  });
  it("sorts names naturally", () => {
    const r = networkRows([c("x", { name: "Center 10" }), c("y", { name: "center 9" }), c("z", { name: "Center 100" })], null);
    expect(sortRows(r, "center", 1).map((x) => x.name)).toEqual(["center 9", "Center 10", "Center 100"]);
  });
  it("filters by text (id or name) and by kind", () => {
    expect(filterRows(rows, "quet", "all").map((r) => r.centerId)).toEqual(["c"]);
    expect(filterRows(rows, "", "offline").map((r) => r.centerId)).toEqual(["c", "d"]);
    expect(filterRows(rows, "", "battery").map((r) => r.centerId)).toEqual(["b"]);
    expect(filterRows(rows, "", "breach").map((r) => r.centerId)).toEqual(["b", "d"]); // SLA breaches only, not every alert
  });
  it("filters and sorts 1000 centers (functional; speed is not asserted in tests)", () => {
    const many = networkRows(Array.from({ length: 1000 }, (_, i) => c(`c${i}`, { peopleInCount: i % 37 })), null);
    const out = sortRows(filterRows(many, "c1", "all"), "people", -1);
    expect(out).toHaveLength(111); // c1, c10–c19, c100–c199
    expect(out.every((r, i) => i === 0 || (out[i - 1] as (typeof out)[number]).peopleInCount >= r.peopleInCount)).toBe(true);
  });
});

describe("board", () => {
  it("feed: badges only, newest first, names from the directory, unknown cards by card id", () => {
    const ev = (seq: number, o: Record<string, unknown>) => ({ type: "badge", seq, ts: seq * 1000, centerId: "x", ...o });
    const items = feedItems(
      [ev(1, { memberId: "m1", cardId: "AA", decision: "granted", reason: "ok", direction: "in" }), { type: "seat", seq: 2, ts: 0, centerId: "x" }, ev(3, { memberId: null, cardId: "BB", decision: "denied", reason: "unknown_card", direction: "in" })],
      new Map([["m1", "Ayesha Khan"]]),
    );
    expect(items.map((i) => [i.seq, i.who, i.decision, i.reason])).toEqual([[3, "#BB", "denied", "unknown_card"], [1, "Ayesha Khan", "granted", "ok"]]);
  });
  it("seat map: configured seats without readings show as 'none', grouped by zone", () => {
    const zones = seatZones(
      { seats: { s02: { zone: "quiet", state: "occupied", since: 0 } } } as never,
      { name: "n", capacity: 1, zones: [], seats: [{ id: "s01", zone: "hot" }, { id: "s02", zone: "quiet" }] },
    );
    expect(zones).toEqual([{ zone: "hot", seats: [{ id: "s01", zone: "hot", state: "none" }] }, { zone: "quiet", seats: [{ id: "s02", zone: "quiet", state: "occupied" }] }]);
  });
});

describe("SLA page", () => {
  it("step segments: dedupe repeated states, clip to the window, any input order", () => {
    const segs = stepSegments([{ ts: 50, state: "battery" }, { ts: 0, state: "mains" }, { ts: 60, state: "battery" }, { ts: 80, state: "mains" }], 10, 100);
    expect(segs).toEqual([{ start: 10, end: 50, state: "mains" }, { start: 50, end: 80, state: "battery" }, { start: 80, end: 100, state: "mains" }]);
  });
  it("outages from raw timelines when the SLA service is absent", () => {
    const o = outagesFromTimelines([{ start: 0, end: 10, state: "mains" }, { start: 10, end: 30, state: "battery" }], [{ start: 5, end: 8, state: "down" }]);
    expect(o.map((x) => [x.start, x.cause, x.durationMs])).toEqual([[5, "internet", 3], [10, "mains_cut", 20]]);
  });
  it("CSV quotes per RFC 4180", () => {
    expect(toCsv(["a", "b"], [["x,y", 'say "hi"'], [null, 3]])).toBe('a,b\r\n"x,y","say ""hi"""\r\n,3\r\n');
  });
  it("PKT month range and wall time (UTC+5)", () => {
    expect(monthRange("2026-11")).toEqual({ from: Date.UTC(2026, 10, 1) - 5 * 3_600_000, to: Date.UTC(2026, 11, 1) - 5 * 3_600_000 });
    expect(fmtTime(Date.UTC(2026, 10, 20, 19, 30), true)).toBe("2026-11-21 00:30");
  });
});

describe("i18n, errors, routes", () => {
  it("Urdu has every English key, and no Urdu label is left in English", () => {
    const en = DICTS.en as Record<string, string>;
    const ur = DICTS.ur as Record<string, string>;
    expect(Object.keys(ur).sort()).toEqual(Object.keys(en).sort());
    const untranslated = Object.keys(en).filter((k) => k !== "language" && ur[k] === en[k]);
    expect(untranslated).toEqual([]);
  });
  it("maps API answers to page states: a missing route is 'not deployed', not 'not found'", () => {
    expect(errorKind(404, "API_NOT_FOUND", "no route GET /api/reports/sla")).toBe("no_route");
    expect(errorKind(404, "API_NOT_FOUND", "no live data for center x")).toBe("not_found");
    expect(errorKind(401, "API_UNAUTHORIZED", "")).toBe("unauthorized");
    expect(errorKind(403, "API_FORBIDDEN", "")).toBe("forbidden");
    expect(errorKind(502, undefined, "Bad Gateway")).toBe("server");
  });
  it("parses hash routes", () => {
    expect(parseRoute("#/center/lhr-01/tv")).toEqual({ page: "board", center: "lhr-01", tv: true });
    expect(parseRoute("#/sla")).toEqual({ page: "sla", center: null });
    expect(parseRoute("")).toEqual({ page: "home" });
    expect(parseRoute("#/nope")).toEqual({ page: "unknown" });
  });
});
