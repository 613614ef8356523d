import { describe, expect, it } from "vitest";
import type { GroundTruthRecord } from "./ground-truth.ts";
import { compareWithInflux, tagRows, type InfluxRow } from "./scenario-compare.ts";

const T = 1_767_600_000_000;
const tap = (t: number, card: string, expected: "granted" | "denied" = "granted", delivered = true): GroundTruthRecord => ({
  t,
  kind: "tap",
  reader: "main-in",
  door: "main",
  direction: "in",
  cardId: card,
  memberId: expected === "granted" ? `m-${card}` : null,
  expected,
  reason: expected === "granted" ? "ok" : "unknown_card",
  delivered,
});
const row = (time: number, seq: number, card: string, decision = "granted"): InfluxRow => ({
  measurement: "access",
  time,
  seq,
  reader: "main-in",
  card,
  member: decision === "granted" ? `m-${card}` : "",
  decision,
  reason: decision === "granted" ? "ok" : "unknown_card",
});

const truth: GroundTruthRecord[] = [
  tap(T, "AA00000001"),
  tap(T + 10_000, "AA00000002"),
  tap(T + 20_000, "AA00000001"),
  tap(T + 30_000, "BB00000009", "denied"),
  tap(T + 40_000, "CC00000000", "granted", false), // undelivered: no row expected
  { t: T + 50_000, kind: "seat", seat: "s01", zone: "z", node: "n", occupied: true, published: true },
  { t: T + 60_000, kind: "power", source: "battery", cause: "load_shedding", chargePct: 100 },
  { t: T + 70_000, kind: "internet", up: false, cause: "drop" },
];
const good: InfluxRow[] = [
  row(T + 40, 1, "AA00000001"),
  row(T + 10_030, 2, "AA00000002"),
  row(T + 20_050, 3, "AA00000001"),
  row(T + 30_020, 4, "BB00000009", "denied"),
  ...tagRows("seat", [{ time: T + 50_100, seq: 5, seat: "s01", state: "occupied" }]),
  ...tagRows("power", [{ time: T + 62_000, seq: 6, source: "battery" }]),
  ...tagRows("uplink", [{ time: T + 95_000, seq: 7, state: "down" }]),
];

describe("compareWithInflux", () => {
  it("a faithful InfluxDB: everything matched, nothing in any category", () => {
    const r = compareWithInflux(truth, good);
    expect(r).toMatchObject({ expected: 7, observed: 7, matched: 7, ok: true, lost: [], duplicated: [], misordered: [], wrong: [] });
  });

  it("lost: a delivered tap without a row", () => {
    const r = compareWithInflux(truth, good.filter((x) => x.seq !== 2));
    expect(r.lost).toEqual([expect.objectContaining({ kind: "badge", key: "main-in/AA00000002", t: T + 10_000 })]);
    expect(r.ok).toBe(false);
  });

  it("duplicated: the same tap stored twice under another seq (a replay that did not overwrite)", () => {
    const r = compareWithInflux(truth, [...good, row(T + 45, 99, "AA00000001")]);
    expect(r.duplicated).toEqual([expect.objectContaining({ seq: 99, t: T })]);
    expect(r.lost).toEqual([]);
  });

  it("misordered: two events of one stream swapped in seq", () => {
    const swapped = good.map((x) => (x.seq === 1 ? { ...x, seq: 3 } : x.seq === 3 ? { ...x, seq: 1 } : x));
    const r = compareWithInflux(truth, swapped);
    expect(r.misordered).toEqual([expect.objectContaining({ key: "main-in/AA00000001", t: T + 20_000 })]);
  });

  it("wrong: a different decision, a different seat state, a phantom row", () => {
    const bad = good.map((x) => (x.seq === 4 ? { ...x, decision: "granted", reason: "ok" } : x.seq === 5 ? { ...x, state: "vacant" } : x));
    const r = compareWithInflux(truth, [...bad, row(T + 40_000, 50, "CC00000000")]);
    expect(r.wrong.map((w) => w.key).sort()).toEqual(["main-in/BB00000009", "main-in/CC00000000", "s01"]);
    expect(r.wrong.find((w) => w.key === "main-in/CC00000000")?.detail).toBe("row with no true event");
    expect(r.lost).toEqual([]);
  });

  it("tolerance: a row too late is lost + unexplained; kinds filter", () => {
    const late = good.map((x) => (x.seq === 6 ? { ...x, time: T + 60_000 + 31_000 } : x));
    const r = compareWithInflux(truth, late, { kinds: ["power"] });
    expect(r.expected).toBe(1);
    expect(r.lost).toHaveLength(1);
    expect(r.wrong).toHaveLength(1);
  });

  it("power: each device is compared with the whole truth; samples are ignored; aliases for what a UPS cannot tell", () => {
    const gt: GroundTruthRecord[] = [
      { t: T, kind: "power", source: "battery", cause: "load_shedding", chargePct: 100 },
      { t: T + 60_000, kind: "power", source: "generator", cause: "generator_start", chargePct: 96 },
    ];
    const rows = tagRows("power", [
      { time: T + 2_000, seq: 1, device: "ups", source: "battery", transition: true },
      { time: T + 3_000, seq: 2, device: "inv", source: "battery", transition: true },
      { time: T + 30_000, seq: 3, device: "ups", source: "battery", transition: false },
      { time: T + 62_000, seq: 4, device: "ups", source: "mains", transition: true },
      { time: T + 61_000, seq: 5, device: "inv", source: "mains", transition: true },
    ]);
    const strict = compareWithInflux(gt, rows);
    expect(strict.expected).toBe(4);
    expect(strict.observed).toBe(4); // the sample is not a transition
    expect(strict.wrong.map((w) => w.key).sort()).toEqual(["power/inv", "power/ups"]);
    const lenient = compareWithInflux(gt, rows, { powerAliases: { generator: ["generator", "mains"] } });
    expect(lenient.ok).toBe(true);
    // generator → mains is invisible to such a UPS: no row for it is not "lost" (but still matched when present).
    const back: GroundTruthRecord = { t: T + 120_000, kind: "power", source: "mains", cause: "mains_return", chargePct: 99 };
    expect(compareWithInflux([...gt, back], rows, { powerAliases: { generator: ["generator", "mains"] } }).ok).toBe(true);
    expect(compareWithInflux([...gt, back], rows).lost).toHaveLength(2);
    expect(compareWithInflux(gt, rows, { powerDevices: ["ups"], kinds: ["power"], powerAliases: { generator: ["mains"] } }).wrong).toEqual([
      expect.objectContaining({ key: "power/inv", detail: "row with no true event" }),
      expect.objectContaining({ key: "power/inv", detail: "row with no true event" }),
    ]);
  });
});


describe("compareWithInflux: door contacts and radar seats", () => {
  const relay = (t: number, on: boolean): GroundTruthRecord => ({ t, kind: "relay", door: "main", channel: 1, on });
  const door = (t: number, open: boolean, cause: "walk" | "forced" | "held" | "flap" | "set" = "walk"): GroundTruthRecord => ({ t, kind: "door", door: "main", open, cause });
  const drow = (time: number, seq: number, state: string) => ({ measurement: "door" as const, time, seq, door: "main", state });
  // A grant (relay on, member walks through, relay off), then a forced opening, then a door propped open 70 s.
  const gt: GroundTruthRecord[] = [
    relay(T, true),
    relay(T + 1_000, true), // a re-grant while unlocked: the board gets ON again, the edge records nothing new
    door(T + 500, true),
    door(T + 2_500, false),
    relay(T + 3_000, false),
    door(T + 100_000, true, "forced"),
    door(T + 102_000, false, "forced"),
    door(T + 200_000, true, "held"),
    door(T + 270_000, false, "held"),
  ].sort((a, b) => a.t - b.t);
  const rows: InfluxRow[] = [
    drow(T + 5, 1, "unlocked"),
    drow(T + 510, 2, "opened"),
    drow(T + 2_510, 3, "closed"),
    drow(T + 3_005, 4, "locked"),
    drow(T + 100_010, 5, "opened"),
    drow(T + 100_010, 6, "forced_open"),
    drow(T + 102_010, 7, "closed"),
    drow(T + 200_010, 8, "opened"),
    drow(T + 200_010, 9, "forced_open"), // propped open with no grant: forced too
    drow(T + 260_020, 10, "held_open"),
    drow(T + 270_010, 11, "closed"),
  ];

  it("movements, relay changes and the alarms the edge must raise all match", () => {
    const r = compareWithInflux(gt, rows);
    expect(r, JSON.stringify(r, null, 1)).toMatchObject({ ok: true, lost: [], wrong: [], duplicated: [], misordered: [] });
    expect(r.matched).toBe(11);
  });

  it("a missing forced_open is lost; an opening the door never made is wrong; a forced_open after a grant is wrong", () => {
    const r = compareWithInflux(gt, rows.filter((x) => x.seq !== 6));
    expect(r.lost).toEqual([expect.objectContaining({ kind: "door", key: "alarm/main", t: T + 100_000 })]);
    const ghost = compareWithInflux(gt, [...rows, drow(T + 150_000, 12, "opened")]);
    expect(ghost.wrong).toEqual([expect.objectContaining({ key: "door/main", detail: "row with no true event" })]);
    const falseAlarm = compareWithInflux(gt, [...rows, drow(T + 520, 13, "forced_open")]);
    expect(falseAlarm.wrong).toEqual([expect.objectContaining({ key: "alarm/main", detail: "row with no true event" })]);
  });

  it("held_open follows the edge's limit; a door re-reporting its true level (start, replug) is restated, not wrong", () => {
    // With a 90 s limit the 70 s opening is not held: the held_open row is then wrong.
    expect(compareWithInflux(gt, rows, { door: { heldOpenMs: 90_000 } }).wrong).toEqual([expect.objectContaining({ key: "alarm/main", detail: "row with no true event" })]);
    const r = compareWithInflux(gt, [drow(T - 30_000, 0, "closed"), ...rows, drow(T + 150_000, 12, "closed")]);
    expect(r.ok).toBe(true);
    expect(r.restated.map((x) => x.rowTime)).toEqual([T - 30_000, T + 150_000]);
  });

  it("door rows are only compared when given or asked for: the relay truth of every grant is not 'lost' elsewhere", () => {
    expect(compareWithInflux(gt, []).expected).toBe(0);
    expect(compareWithInflux(gt, [], { kinds: ["door"] }).lost.length).toBe(11); // 2 relay changes, 6 movements, 2 forced, 1 held
  });

  it("radar seats: presence changes are seat rows (change-only); the radar's first 'vacant' is restated", () => {
    const radar = (t: number, present: boolean): GroundTruthRecord => ({ t, kind: "radar", seat: "r01", zone: "quiet", present });
    const rgt = [radar(T, false), radar(T + 10_000, true), radar(T + 10_500, true), radar(T + 60_000, false)];
    const seat = (time: number, seq: number, state: string) => ({ measurement: "seat" as const, time, seq, seat: "r01", state, source: "ld2410" });
    const good = [seat(T - 5_000, 1, "vacant"), seat(T + 10_400, 2, "occupied"), seat(T + 60_400, 3, "vacant")];
    const r = compareWithInflux(rgt, good);
    expect(r, JSON.stringify(r, null, 1)).toMatchObject({ ok: true, expected: 2, matched: 2 });
    expect(r.restated).toHaveLength(1);
    expect(compareWithInflux(rgt, good.slice(0, 2)).lost).toEqual([expect.objectContaining({ kind: "seat", key: "r01", t: T + 60_000 })]);
    expect(compareWithInflux(rgt, [...good, seat(T + 30_000, 4, "vacant")]).wrong).toEqual([expect.objectContaining({ key: "r01", detail: "row with no true event" })]);
  });
});
