/**
 * Every Grafana panel's InfluxQL, extracted from the provisioned dashboard JSON
 * (not from the generator), with Grafana's macros substituted the way Grafana
 * does it, runs against a real InfluxDB 1.6.7 seeded by a simulator run: two
 * simulated centers (cli/network.ts: devices on socat ptys and MQTT) with their
 * real edge agents and the real server ingest. lhr-01 has a Megatec Q1 UPS on a
 * pty, isb-01 a NUT UPS (the sim writes the dummy-ups file a private upsd
 * serves). The run: seats taken and a sensor lost, badge taps granted and denied
 * for several reasons, a mains cut at both centers, and a server outage during
 * which the edges keep heartbeats in their outboxes. Each panel's query must
 * return the series those actions imply (taps and seats from the sim's own
 * outcomes, power and uplink transitions from the raw points' times).
 */
import path from "node:path";
import { readdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../protocol/clock.ts";
import { startNetwork, type Network } from "../cli/network.ts";
import { makeTempDir, removeDir, seriesRows, startNut, waitFor, type NutInstance } from "./harness/index.ts";

const DIR = new URL("../dashboards/grafana/dashboards/", import.meta.url);
const LHR = "lhr-01";
const ISB = "isb-01";
// Grafana picks $__interval from the range and the panel width; a two-minute run gives 1 s.
const INTERVAL = "1s";
const bucket = (t: number) => Math.floor(t / 1000) * 1000;

let dir: string;
let nut: NutInstance;
let net: Network;
let tStart = 0;
let tEnd = 0;
/** What the run did, from the simulator's own outcomes. */
const did = {
  beforeSeats: 0,
  checkIns: { [LHR]: 0, [ISB]: 0 } as Record<string, number>,
  denied: {} as Record<string, number>,
};

async function raw(q: string): Promise<Record<string, unknown>[]> {
  return seriesRows(await net.influx.query(q, net.database, { epoch: "ms" }));
}
async function waitRows(q: string, ok: (rows: Record<string, unknown>[]) => boolean, what: string) {
  return waitFor(async () => {
    const r = await raw(q).catch(() => []);
    return ok(r) ? r : null;
  }, { timeoutMs: 30_000, what });
}

async function seed(): Promise<void> {
  dir = await makeTempDir("hazri-grafana-");
  // Its own temp dir: the nut account must reach it (ours is 0700).
  nut = await startNut({
    upses: { "isb-ups": { file: "isb-ups.dev", content: "ups.mfr: Simulated\nups.status: OL\nbattery.charge: 100\n" } },
  });
  tStart = Date.now() - 1000;
  // Transitions only (no periodic samples): while the server is down nothing but the uplink event and heartbeats
  // enters the outboxes, so their depth counts heartbeats.
  const ups = { speed: 30, pollMs: 500, sampleMs: 0 };
  net = await startNetwork({
    dir: path.join(dir, "net"),
    mode: "inline",
    centers: [
      { id: LHR, seed: 7, seats: 4, members: 20, heartbeatS: 2, ups },
      { id: ISB, seed: 11, seats: 2, members: 12, heartbeatS: 2, ups: { ...ups, nut: { host: nut.host, port: nut.port, ups: "isb-ups", devFile: path.join(nut.dir, "etc", "isb-ups.dev") } } },
    ],
    logger: silentLogger,
  });
  const lhr = net.center(LHR);
  const isb = net.center(ISB);

  // The sensors' first readings (vacant); every seat's state and both UPSes are in InfluxDB before anything happens.
  for (const c of [lhr, isb]) for (const s of c.layout.seats) await c.sim.setSeat(s.id, false);
  await waitRows(`SELECT last("state") FROM "seat" GROUP BY "center", "seat"`, (r) => r.length === 6, "the six seats' first states");
  await waitRows(`SELECT last("source") FROM "power" GROUP BY "center"`, (r) => r.length === 2 && r.every((x) => x.last === "mains"), "both UPSes on mains");
  did.beforeSeats = Date.now();

  for (const s of ["s01", "s02", "s03"]) await lhr.sim.setSeat(s, true);
  await isb.sim.setSeat("s01", true);
  await isb.sim.seatOffline("s02"); // LWT: the edge reports the seat unknown

  const today = new Date().toISOString().slice(0, 10);
  const tap = async (c: typeof lhr, reader: "main-in" | "main-out", card: string) => {
    const o = await c.sim.tap(reader, card);
    if (o.expected === "granted" && reader === "main-in") did.checkIns[c.id] = (did.checkIns[c.id] ?? 0) + 1;
    if (o.expected === "denied") did.denied[o.reason] = (did.denied[o.reason] ?? 0) + 1;
    return o;
  };
  for (const [c, n] of [[lhr, 4], [isb, 2]] as const) {
    const plain = c.layout.members.filter((m) => m.status === "active" && !m.validUntil).slice(0, n);
    for (const m of plain) await tap(c, "main-in", m.cards[0] as string);
    const susp = c.layout.members.find((m) => m.status === "suspended");
    if (susp) await tap(c, "main-in", susp.cards[0] as string);
    if (c === lhr) {
      await tap(lhr, "main-out", plain[0]?.cards[0] as string); // a check-out: granted, not a check-in
      const expired = lhr.layout.members.find((m) => m.validUntil !== undefined && m.validUntil < today);
      if (expired) await tap(lhr, "main-in", expired.cards[0] as string);
      await tap(lhr, "main-in", "00DEADBEEF");
    }
  }
  const expectedAccess = Object.values(did.checkIns).reduce((a, b) => a + b, 0) + 1 + Object.values(did.denied).reduce((a, b) => a + b, 0);
  await waitRows(`SELECT count("seq") FROM "access"`, (r) => Number(r[0]?.count) === expectedAccess, "every tap in InfluxDB");

  // Load shedding at both centers on a battery an earlier cut left at 60 % (set first, so the transition carries it).
  for (const c of [lhr, isb]) await c.sim.power.setBattery({ chargePct: 60, lowBattery: false, onBattery: false });
  for (const c of [lhr, isb]) await c.sim.setMains(false);
  const onBattery = await waitRows(`SELECT last("source") FROM "power" GROUP BY "center"`, (r) => r.length === 2 && r.every((x) => x.last === "battery"), "both UPSes on battery");
  // Mains returns in a later 1 s bucket than the cut (the expectations read the two buckets apart).
  const cutAt = Math.max(...onBattery.map((r) => Number(r.time)));
  await waitFor(() => (Date.now() >= bucket(cutAt) + 1000 ? true : null), { timeoutMs: 5_000, what: "the next second" });
  for (const c of [lhr, isb]) await c.sim.setMains(true);
  await waitRows(`SELECT last("source") FROM "power" GROUP BY "center"`, (r) => r.length === 2 && r.every((x) => x.last === "mains"), "mains back at both centers");

  // A server outage: the edges see the uplink drop and keep heartbeats (with their outbox depth) in the outbox.
  await net.server.stop();
  // Depth ≥ 4: the down event and three more (heartbeats: nothing else happens meanwhile).
  await waitFor(() => (net.centers.every((c) => c.edge.status()?.uplink === "down" && (c.edge.status()?.outboxDepth ?? 0) >= 4) ? true : null), {
    timeoutMs: 30_000,
    what: "both edges buffering heartbeats with the uplink down",
  });
  await net.server.start();
  await waitFor(() => (net.centers.every((c) => c.edge.status()?.uplink === "up" && c.edge.status()?.outboxDepth === 0) ? true : null), {
    timeoutMs: 60_000,
    what: "both outboxes drained after the server came back",
  });
  const back = Date.now();
  await waitRows(
    `SELECT last("outbox_depth") FROM "edge_heartbeat" WHERE time > ${back}ms GROUP BY "center"`,
    (r) => r.length === 2 && r.every((x) => x.last === 0),
    "a heartbeat with an empty outbox from each edge",
  );
  tEnd = Date.now() + 1000;
}

interface Panel {
  title: string;
  targets: { rawQuery: boolean; query: string; resultFormat: string }[];
}
interface Dashboard {
  title: string;
  panels: Panel[];
  templating: { list: { name: string; query: string }[] };
}
async function dashboards(): Promise<Dashboard[]> {
  const files = (await readdir(DIR)).filter((f) => f.endsWith(".json")).sort();
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(new URL(f, DIR), "utf8")) as Dashboard));
}

/** Grafana's InfluxQL macro expansion: `$timeFilter` → absolute ms bounds, `$__interval`, regex-formatted `$center`. */
function expand(q: string, centers: string[]): string {
  return q
    .replaceAll("$timeFilter", `time >= ${tStart}ms and time <= ${tEnd}ms`)
    .replaceAll("$__interval", INTERVAL)
    .replaceAll("$center", `(${centers.join("|")})`);
}
const run = raw;

const of = (rows: Record<string, unknown>[], center: string) => rows.filter((r) => r.center === center);
const lastOf = (rows: Record<string, unknown>[], center: string, col: string) =>
  of(rows, center).filter((r) => r[col] !== null && r[col] !== undefined).at(-1)?.[col];
const at = (rows: Record<string, unknown>[], center: string, t: number) => of(rows, center).find((r) => r.time === bucket(t));
/** The panel's rows strictly between the buckets of two times (whole buckets inside an interval). */
const inside = (rows: Record<string, unknown>[], center: string, from: number, to: number) =>
  of(rows, center).filter((r) => Number(r.time) > bucket(from) && Number(r.time) < bucket(to));

/** Times of the raw power transitions: the first battery point and the first mains point after it. */
async function cut(center: string): Promise<{ from: number; to: number }> {
  const rows = await raw(`SELECT "source" FROM "power" WHERE "center" = '${center}' AND time >= ${tStart}ms`);
  const from = Number(rows.find((r) => r.source === "battery")?.time);
  const to = Number(rows.find((r) => Number(r.time) > from && r.source === "mains")?.time);
  if (!(to > from)) throw new Error(`no battery → mains cut in the raw power points of ${center}`);
  return { from, to };
}
/** Times of the raw uplink transitions: the server outage's down and the next up. */
async function outage(center: string): Promise<{ from: number; to: number }> {
  const rows = await raw(`SELECT "up" FROM "uplink" WHERE "center" = '${center}' AND time >= ${tStart}ms`);
  const from = Number(rows.find((r) => r.up === 0)?.time);
  const to = Number(rows.find((r) => Number(r.time) > from && r.up === 1)?.time);
  if (!(to > from)) throw new Error(`no down → up in the raw uplink points of ${center}`);
  return { from, to };
}

/** Expected series per panel title (every panel must have an entry: a new panel without one fails). */
const EXPECT: Record<string, (rows: Record<string, unknown>[]) => void | Promise<void>> = {
  "Seats occupied": (rows) => {
    // The panel's transformations: join the per-seat series on time, sum each row (per center: the panel repeats by center).
    const sumAt = (c: string, t: number) => of(rows, c).filter((r) => r.time === t).reduce((s, r) => s + Number(r.occ ?? 0), 0);
    const last = Math.max(...rows.map((r) => Number(r.time)));
    expect(sumAt(LHR, last)).toBe(3);
    expect(sumAt(ISB, last)).toBe(1); // s02's sensor went offline: unknown is not occupied
    expect(sumAt(LHR, bucket(did.beforeSeats) - 1000)).toBe(0);
    expect(new Set(of(rows, LHR).map((r) => r.seat))).toEqual(new Set(["s01", "s02", "s03", "s04"]));
  },
  "Seat occupancy": (rows) => {
    const lastState = (c: string, s: string) => rows.filter((r) => r.center === c && r.seat === s && r.state !== null).at(-1)?.state;
    expect(lastState(LHR, "s03")).toBe("occupied");
    expect(lastState(LHR, "s04")).toBe("vacant");
    expect(lastState(ISB, "s01")).toBe("occupied");
    expect(lastState(ISB, "s02")).toBe("unknown");
  },
  "Check-ins": (rows) => {
    const sum = (c: string) => of(rows, c).reduce((s, r) => s + Number(r.check_ins ?? 0), 0);
    expect(sum(LHR)).toBe(did.checkIns[LHR]);
    expect(sum(ISB)).toBe(did.checkIns[ISB]);
    expect(did.checkIns[LHR]).toBe(4); // the check-out tap is granted but not a check-in
  },
  "Denied taps by reason": (rows) => {
    const by = Object.fromEntries(rows.map((r) => [r.reason, r.denied]));
    expect(by).toEqual(did.denied);
    expect(Object.keys(did.denied).sort()).toEqual(["plan_expired", "suspended", "unknown_card"]);
  },
  "Seat states (latest)": (rows) => {
    expect(rows).toHaveLength(6);
    expect(rows.find((r) => r.center === ISB && r.seat === "s02")?.state).toBe("unknown");
    expect(rows.find((r) => r.center === LHR && r.seat === "s04")).toMatchObject({ zone: "hot-desk", state: "vacant" });
  },
  "Power source": async (rows) => {
    for (const c of [LHR, ISB]) {
      const t = await cut(c);
      expect(at(rows, c, t.from)?.source, c).toBe("battery");
      expect(inside(rows, c, t.from, t.to).every((r) => r.source === "battery"), c).toBe(true); // fill(previous)
      expect(at(rows, c, t.to)?.source, c).toBe("mains");
      expect(lastOf(rows, c, "source"), c).toBe("mains");
    }
  },
  "UPS battery charge": async (rows) => {
    // Q1 has no charge %: the edge's estimate from the pack voltage (21.0–25.8 V) reads a 60 % battery high,
    // and a charging pack (27.2 V) as full.
    const tl = await cut(LHR);
    expect(Number(at(rows, LHR, tl.from)?.charge)).toSatisfy((v: number) => v > 60 && v < 95);
    expect(at(rows, LHR, tl.to)?.charge).toBe(100);
    // NUT carries battery.charge: the model's 60 %.
    const ti = await cut(ISB);
    expect(Number(at(rows, ISB, ti.from)?.charge)).toSatisfy((v: number) => v >= 45 && v <= 60); // draining at 30×: ~0.4 %/s
    expect(inside(rows, ISB, ti.from, ti.to).every((r) => r.charge === at(rows, ISB, ti.from)?.charge)).toBe(true); // fill(previous)
  },
  "UPS runtime left": async (rows) => {
    // 60 % of 600 Wh at 300 W = 72 model minutes (NUT battery.runtime); Q1 carries no runtime: no line, not a zero.
    const t = await cut(ISB);
    expect(Number(at(rows, ISB, t.from)?.runtime_min)).toSatisfy((v: number) => v > 50 && v <= 72);
    expect(lastOf(rows, LHR, "runtime_min")).toBeUndefined();
  },
  "Mains input voltage": async (rows) => {
    for (const c of [LHR, ISB]) {
      const t = await cut(c);
      // Transitions only: the cut's bucket holds the battery point alone, the return's bucket the mains point.
      expect(at(rows, c, t.from)?.input_v, c).toBe(0);
      expect(inside(rows, c, t.from, t.to).every((r) => r.input_v === null), c).toBe(true); // fill(null), no samples
      expect(at(rows, c, t.to)?.input_v, c).toBe(230);
    }
  },
  "Internet uplink": async (rows) => {
    for (const c of [LHR, ISB]) {
      const t = await outage(c);
      expect(at(rows, c, t.from)?.up, c).toBe(0);
      expect(inside(rows, c, t.from, t.to).every((r) => r.up === 0), c).toBe(true);
      expect(at(rows, c, t.to)?.up, c).toBe(1);
    }
  },
  "Heartbeats received": async (rows) => {
    for (const c of [LHR, ISB]) {
      const [n] = await raw(`SELECT count("seq") FROM "edge_heartbeat" WHERE "center" = '${c}' AND time >= ${tStart}ms AND time <= ${tEnd}ms`);
      expect(of(rows, c).reduce((s, r) => s + Number(r.heartbeats), 0), c).toBe(Number(n?.count));
      // Beats made while the uplink was down arrive late from the outbox but count at their own time.
      const t = await outage(c);
      expect(of(rows, c).filter((r) => Number(r.time) >= bucket(t.from) && Number(r.time) <= bucket(t.to)).reduce((s, r) => s + Number(r.heartbeats), 0), c).toBeGreaterThanOrEqual(2);
    }
  },
  "Edge outbox depth": async (rows) => {
    for (const c of [LHR, ISB]) {
      const t = await outage(c);
      const during = of(rows, c).filter((r) => Number(r.time) >= bucket(t.from) && Number(r.time) <= bucket(t.to) && r.outbox !== null);
      expect(Math.max(...during.map((r) => Number(r.outbox))), c).toBeGreaterThanOrEqual(2); // the down event and the beats before
      expect(lastOf(rows, c, "outbox"), c).toBe(0); // drained after the server came back
    }
  },
  "Uplink round trip": (rows) => {
    for (const c of [LHR, ISB]) {
      const rtts = of(rows, c).filter((r) => r.rtt !== null).map((r) => Number(r.rtt));
      expect(rtts.length, c).toBeGreaterThan(0);
      expect(rtts.every((v) => v >= 0), c).toBe(true); // the -1 (unknown) reading is excluded from the mean
    }
  },
};

beforeAll(seed, 240_000);
afterAll(async () => {
  await net?.stop();
  await nut?.stop();
  if (dir) await removeDir(dir);
});

describe("Grafana dashboards (dashboards/grafana/dashboards/*.json) against InfluxDB 1.6.7 seeded by a simulator run", () => {
  it("has three dashboards, every panel has exactly one raw InfluxQL target with the macros and an expectation here", async () => {
    const ds = await dashboards();
    expect(ds.map((d) => d.title).sort()).toEqual(["Hazri — occupancy", "Hazri — power", "Hazri — uptime"]);
    for (const d of ds)
      for (const p of d.panels) {
        expect(p.targets, p.title).toHaveLength(1);
        expect(p.targets[0]?.rawQuery, p.title).toBe(true);
        expect(p.targets[0]?.query, p.title).toContain("$timeFilter");
        expect(p.targets[0]?.query, p.title).toContain("/^$center$/");
        expect(Object.keys(EXPECT), `no expectation for panel "${p.title}"`).toContain(p.title);
      }
  });

  it("the $center variable query lists both simulated centers", async () => {
    for (const d of await dashboards()) {
      const v = d.templating.list.find((x) => x.name === "center");
      const rows = await run(v?.query ?? "");
      // One row per measurement carrying the tag; Grafana shows distinct values.
      expect([...new Set(rows.map((r) => r.value))].sort()).toEqual([ISB, LHR]);
    }
  });

  it("each panel's query runs and returns the expected series", async () => {
    const checked: string[] = [];
    for (const d of await dashboards())
      for (const p of d.panels) {
        const q = expand(p.targets[0]?.query ?? "", [LHR, ISB]);
        const rows = await run(q).catch((e: Error) => {
          throw new Error(`panel "${p.title}": ${e.message}\n${q}`);
        });
        expect(rows.length, `panel "${p.title}" returned no rows:\n${q}`).toBeGreaterThan(0);
        try {
          await EXPECT[p.title]?.(rows);
        } catch (e) {
          (e as Error).message = `panel "${p.title}": ${(e as Error).message}\n${q}`;
          throw e;
        }
        checked.push(p.title);
      }
    expect(checked).toHaveLength(Object.keys(EXPECT).length);
  });

  it("the $center filter really filters: one center selected → only its series", async () => {
    for (const d of await dashboards())
      for (const p of d.panels) {
        const rows = await run(expand(p.targets[0]?.query ?? "", [ISB]));
        const centers = new Set(rows.map((r) => r.center).filter((c) => c !== undefined));
        expect([...centers].every((c) => c === ISB), p.title).toBe(true);
      }
  });
});
