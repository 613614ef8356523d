/**
 * Compare what really happened (ground truth) with what reached InfluxDB,
 * in the four categories of issue 4 / reliability-matrix §7:
 *  - lost: a true event with no row;
 *  - duplicated: more than one row for one true event (a replay that did NOT
 *    overwrite, i.e. a different point key — a replay with the same
 *    (center, seq) overwrites by design and is invisible here, as it should be);
 *  - misordered: within one device stream (a reader+card, a seat, the power
 *    source, the uplink), rows whose time or seq order contradicts the true order;
 *  - wrong: a row matched to a true event but with other content (decision,
 *    reason, member, seat state, power source, link state), or a row no true
 *    event explains.
 * Pure: rows come from the caller's InfluxQL (flattened, epoch ms, tags as
 * columns — what test/harness `seriesRows` returns), tagged with their measurement.
 *
 * Doors (measurement `door`, kind "door"): the reed switch's true movements
 * (`door` truth) against opened/closed rows, the relay commands the board
 * really got (`relay` truth) against unlocked/locked, and the alarms the edge
 * must raise from them: forced_open for an opening with no relay ON in the
 * grant window before it, held_open for an opening that lasted the held-open
 * limit. Radar seats (`radar` truth) are seat rows like the MQTT ones. A door
 * or radar row that only restates the true level (the edge reports the
 * contact's level at start and after a replug; the radar's first frames say
 * "vacant") is `restated`, not wrong.
 */
import type { GroundTruthRecord } from "./ground-truth.ts";

export type InfluxRow = Record<string, unknown> & { measurement: "access" | "seat" | "power" | "uplink" | "door" };

export interface CompareOptions {
  /** Max |row time − true time| to call them the same event (ms). Defaults: badge/seat 5 s, power 30 s, uplink 90 s. */
  toleranceMs?: Partial<Record<Kind, number>>;
  /**
   * Only compare these kinds (default: every kind that has rows or truth; "door" only when asked for
   * or when door rows are given, since the relay truth of every grant would otherwise be "lost").
   */
  kinds?: Kind[];
  /** Door alarm rules of the edge under test (its `unlockMs + contact.graceMs` and `heldOpenS`). Defaults 3000 / 60 000 ms. */
  door?: { authorisedMs?: number; heldOpenMs?: number };
  /**
   * Power sources a row may show for a true source, when the hardware cannot tell them apart
   * (a UPS on generator input is "OL" like on mains: `{ generator: ["generator", "mains"] }`). Default: exact.
   */
  powerAliases?: Partial<Record<string, string[]>>;
  /**
   * Power devices whose rows are compared, each against the whole power truth (every device of the
   * center sees the same plant). Default: every device that has power rows.
   */
  powerDevices?: string[];
}

export interface CompareItem {
  kind: Kind;
  key: string;
  /** True time, when there is a true event. */
  t?: number;
  rowTime?: number;
  seq?: number;
  detail: string;
}

export interface CompareReport {
  expected: number;
  observed: number;
  matched: number;
  lost: CompareItem[];
  duplicated: CompareItem[];
  misordered: CompareItem[];
  wrong: CompareItem[];
  /** Rows that only repeat the true level of a door contact or radar seat (not an error). */
  restated: CompareItem[];
  /** true when lost, duplicated, misordered and wrong are empty. */
  ok: boolean;
}

/** Tag flattened rows of one measurement for compareWithInflux. */
export function tagRows(measurement: InfluxRow["measurement"], rows: ReadonlyArray<Record<string, unknown>>): InfluxRow[] {
  return rows.map((r) => ({ ...r, measurement }));
}

type Kind = "badge" | "seat" | "power" | "uplink" | "door";
interface Expect {
  kind: Kind;
  key: string;
  t: number;
  want: Record<string, unknown>;
  /** Not "lost" when absent: a change the device may not be able to see (see powerAliases). */
  optional?: boolean;
}
interface Row {
  kind: Kind;
  key: string;
  time: number;
  seq: number | undefined;
  got: Record<string, unknown>;
}

const DEFAULT_TOL: Record<Kind, number> = { badge: 5_000, seat: 5_000, power: 30_000, uplink: 90_000, door: 5_000 };

function timeOf(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") return Date.parse(v);
  return Number.NaN;
}

function expectations(gt: readonly GroundTruthRecord[], powerDevices: readonly string[], aliases: CompareOptions["powerAliases"], o: { doors: boolean; door: CompareOptions["door"] }): Expect[] {
  const out: Expect[] = o.doors ? doorExpectations(gt, o.door) : [];
  const radarLevel = new Map<string, boolean>();
  const seen = (s: string) => new Set([s, ...(aliases?.[s] ?? [])]);
  let prevPower: string | null = null;
  for (const r of gt) {
    if (r.kind === "tap" && r.delivered) {
      out.push({ kind: "badge", key: `${r.reader}/${r.cardId}`, t: r.t, want: { decision: r.expected, reason: r.reason, member: r.memberId ?? "" } });
    } else if (r.kind === "seat" && r.published) {
      out.push({ kind: "seat", key: r.seat, t: r.t, want: { state: r.occupied ? "occupied" : "vacant" } });
    } else if (r.kind === "power") {
      // generator → mains looks like no change to a UPS that shows both as OL: the edge (change-only) may record nothing.
      const optional = prevPower !== null && [...seen(prevPower)].some((x) => seen(r.source).has(x));
      prevPower = r.source;
      for (const d of powerDevices) out.push({ kind: "power", key: `power/${d}`, t: r.t, want: { source: r.source }, optional });
    } else if (r.kind === "radar") {
      // Change-only, like the edge: a radar streams its level (vacant until someone sits); a repeat is no event.
      if ((radarLevel.get(r.seat) ?? false) === r.present) continue;
      radarLevel.set(r.seat, r.present);
      out.push({ kind: "seat", key: r.seat, t: r.t, want: { state: r.present ? "occupied" : "vacant" } });
    } else if (r.kind === "internet") {
      out.push({ kind: "uplink", key: "uplink", t: r.t, want: { state: r.up ? "up" : "down" } });
    }
  }
  return out;
}

function observed(rows: readonly InfluxRow[]): Row[] {
  // Power metric samples (`transition: false`) are not transitions: no truth to compare them with.
  return rows.filter((r) => !(r.measurement === "power" && r.transition === false)).map((r): Row => {
    const time = timeOf(r.time);
    const seq = typeof r.seq === "number" ? r.seq : undefined;
    switch (r.measurement) {
      case "access":
        return {
          kind: "badge",
          key: `${String(r.reader)}/${String(r.card)}`,
          time,
          seq,
          got: { decision: r.decision ?? (r.granted === 1 ? "granted" : "denied"), reason: r.reason, member: r.member ?? "" },
        };
      case "seat":
        return { kind: "seat", key: String(r.seat), time, seq, got: { state: r.state ?? (r.occupied === 1 ? "occupied" : "vacant") } };
      case "power":
        return { kind: "power", key: `power/${String(r.device ?? "")}`, time, seq, got: { source: r.source } };
      case "uplink":
        return { kind: "uplink", key: "uplink", time, seq, got: { state: r.state ?? (r.up === 1 ? "up" : "down") } };
      case "door": {
        const st = String(r.state);
        const stream = st === "unlocked" || st === "locked" ? "relay" : st === "forced_open" || st === "held_open" ? "alarm" : "door";
        return { kind: "door", key: `${stream}/${String(r.door)}`, time, seq, got: { state: st } };
      }
    }
  });
}

/**
 * Door truth → expected door rows: opened/closed per real movement, unlocked/locked per relay
 * change the board received, forced_open / held_open where the edge's rules must fire. Openings
 * within BAND ms of a rule's boundary are optional: which side the edge saw depends on its clock
 * and on the relay and contact latency (milliseconds to a few hundred here).
 */
const BAND = 1000;
function doorExpectations(gt: readonly GroundTruthRecord[], rules: CompareOptions["door"]): Expect[] {
  const tol = BAND;
  const authorisedMs = rules?.authorisedMs ?? 3000;
  const heldMs = rules?.heldOpenMs ?? 60_000;
  const out: Expect[] = [];
  const relayOn = new Map<string, boolean>();
  const lastOn = new Map<string, number>(); // last relay ON command per door
  const open = new Map<string, { t: number } | null>();
  for (const r of gt) {
    if (r.kind === "relay") {
      if (r.on) lastOn.set(r.door, r.t);
      if ((relayOn.get(r.door) ?? false) === r.on) continue; // a re-grant while unlocked is no new event
      relayOn.set(r.door, r.on);
      out.push({ kind: "door", key: `relay/${r.door}`, t: r.t, want: { state: r.on ? "unlocked" : "locked" } });
    } else if (r.kind === "door") {
      const was = open.get(r.door) ?? null;
      if ((was !== null) === r.open) continue;
      out.push({ kind: "door", key: `door/${r.door}`, t: r.t, want: { state: r.open ? "opened" : "closed" } });
      if (r.open) {
        open.set(r.door, { t: r.t });
        const on = lastOn.get(r.door);
        const since = on === undefined ? Infinity : r.t - on;
        if (since > authorisedMs + tol) out.push({ kind: "door", key: `alarm/${r.door}`, t: r.t, want: { state: "forced_open" } });
        else if (since > authorisedMs - tol) out.push({ kind: "door", key: `alarm/${r.door}`, t: r.t, want: { state: "forced_open" }, optional: true });
      } else {
        open.set(r.door, null);
        if (was && r.t - was.t >= heldMs - tol) out.push({ kind: "door", key: `alarm/${r.door}`, t: was.t + heldMs, want: { state: "held_open" }, ...(r.t - was.t < heldMs + tol ? { optional: true } : {}) });
      }
    }
  }
  // Still open at the end of the truth: held_open is due if the limit passed before the last record.
  const end = gt.length > 0 ? (gt[gt.length - 1] as GroundTruthRecord).t : 0;
  for (const [door, o] of open) if (o && end - o.t >= heldMs) out.push({ kind: "door", key: `alarm/${door}`, t: o.t + heldMs, want: { state: "held_open" }, optional: end - o.t < heldMs + tol });
  return out;
}

/** The true level of a door contact or radar seat at `time` (physical default before the first record), or null. */
function levelAt(gt: readonly GroundTruthRecord[], row: Row): string | null {
  if (row.kind === "door" && row.key.startsWith("door/")) {
    const door = row.key.slice(5);
    let level = "closed";
    for (const r of gt) if (r.kind === "door" && r.door === door && r.t <= row.time) level = r.open ? "opened" : "closed";
    return level;
  }
  if (row.kind === "seat" && gt.some((r) => r.kind === "radar" && r.seat === row.key)) {
    let level = "vacant";
    for (const r of gt) if (r.kind === "radar" && r.seat === row.key && r.t <= row.time) level = r.present ? "occupied" : "vacant";
    return level;
  }
  return null;
}

type Diff = (want: Record<string, unknown>, got: Record<string, unknown>) => string | null;
const makeDiff = (aliases: CompareOptions["powerAliases"]): Diff => (want, got) => {
  const ok = (k: string) => got[k] === undefined || got[k] === want[k] || (k === "source" && (aliases?.[String(want[k])] ?? []).includes(String(got[k])));
  const bad = Object.keys(want).filter((k) => !ok(k));
  return bad.length ? bad.map((k) => `${k}: want ${JSON.stringify(want[k])}, got ${JSON.stringify(got[k])}`).join("; ") : null;
};

export function compareWithInflux(groundTruth: readonly GroundTruthRecord[], rows: readonly InfluxRow[], opts: CompareOptions = {}): CompareReport {
  const tol = { ...DEFAULT_TOL, ...opts.toleranceMs };
  const only = opts.kinds ? new Set(opts.kinds) : null;
  const diff = makeDiff(opts.powerAliases);
  const obs = observed(rows).filter((r) => !only || only.has(r.kind));
  const devices = opts.powerDevices ?? [...new Set(obs.filter((r) => r.kind === "power").map((r) => r.key.slice("power/".length)))];
  const doors = only ? only.has("door") : obs.some((r) => r.kind === "door");
  const exp = expectations(groundTruth, devices.length > 0 ? devices : [""], opts.powerAliases, { doors, door: opts.door }).filter((e) => !only || only.has(e.kind));
  const report: CompareReport = { expected: exp.length, observed: obs.length, matched: 0, lost: [], duplicated: [], misordered: [], wrong: [], restated: [], ok: true };

  const group = <T extends { kind: Kind; key: string }>(xs: T[]) => {
    const m = new Map<string, T[]>();
    for (const x of xs) {
      const k = `${x.kind}|${x.key}`;
      const a = m.get(k);
      if (a) a.push(x);
      else m.set(k, [x]);
    }
    return m;
  };
  const expBy = group(exp);
  const obsBy = group(obs);
  for (const k of new Set([...expBy.keys(), ...obsBy.keys()])) {
    const es = (expBy.get(k) ?? []).sort((a, b) => a.t - b.t);
    const rs = (obsBy.get(k) ?? []).sort((a, b) => a.time - b.time);
    const used = new Array<boolean>(rs.length).fill(false);
    const pairs: Array<{ e: Expect; r: Row }> = [];
    // Events that must have a row are matched first, so an optional one cannot take their row.
    for (const e of [...es.filter((x) => !x.optional), ...es.filter((x) => x.optional)]) {
      const t = tol[e.kind];
      // Prefer the nearest row with the expected content; the nearest row in the window otherwise (then it
      // is "wrong"). Nearest, not first: in a fast stream (a door opening and closing within the window)
      // the first row with the right content may belong to an earlier event.
      let pick = -1;
      let pickOk = false;
      for (let i = 0; i < rs.length; i++) {
        const r = rs[i] as Row;
        if (used[i] || Math.abs(r.time - e.t) > t) continue;
        const ok = diff(e.want, r.got) === null;
        const closer = pick < 0 || Math.abs(r.time - e.t) < Math.abs((rs[pick] as Row).time - e.t);
        if ((ok && (!pickOk || closer)) || (!ok && !pickOk && closer)) {
          pick = i;
          pickOk = ok;
        }
      }
      if (pick < 0) {
        if (e.optional) continue;
        report.lost.push({ kind: e.kind, key: e.key, t: e.t, detail: `no row within ${t} ms` });
        continue;
      }
      used[pick] = true;
      const r = rs[pick] as Row;
      pairs.push({ e, r });
      const d = diff(e.want, r.got);
      if (d) report.wrong.push({ kind: e.kind, key: e.key, t: e.t, rowTime: r.time, ...(r.seq !== undefined ? { seq: r.seq } : {}), detail: d });
    }
    report.matched += pairs.length;
    rs.forEach((r, i) => {
      if (used[i]) return;
      const twin = pairs.find((p) => Math.abs(p.r.time - r.time) <= tol[r.kind] && diff(p.e.want, r.got) === null);
      const item = { kind: r.kind, key: r.key, rowTime: r.time, ...(r.seq !== undefined ? { seq: r.seq } : {}) };
      // A level stream's row that says what the level already was (before any event it could be a copy of) restates it.
      const level = levelAt(groundTruth, r);
      if (level !== null && r.got.state === level && (!twin || r.time < twin.e.t)) report.restated.push({ ...item, detail: `repeats the true level ${level}` });
      else if (twin) report.duplicated.push({ ...item, t: twin.e.t, detail: `second row for the event at ${twin.e.t} (first seq ${twin.r.seq})` });
      else report.wrong.push({ ...item, detail: "row with no true event" });
    });
    pairs.sort((a, b) => a.e.t - b.e.t);
    // Order within the stream: true order must be row-time order and seq order.
    for (let i = 1; i < pairs.length; i++) {
      const a = pairs[i - 1] as { e: Expect; r: Row };
      const b = pairs[i] as { e: Expect; r: Row };
      const byTime = b.r.time < a.r.time;
      const bySeq = a.r.seq !== undefined && b.r.seq !== undefined && b.r.seq < a.r.seq;
      if (byTime || bySeq)
        report.misordered.push({ kind: b.e.kind, key: b.e.key, t: b.e.t, rowTime: b.r.time, ...(b.r.seq !== undefined ? { seq: b.r.seq } : {}), detail: `after the event at ${a.e.t} in truth, before it in InfluxDB (${byTime ? "time" : "seq"})` });
    }
  }
  report.ok = report.lost.length + report.duplicated.length + report.misordered.length + report.wrong.length === 0;
  return report;
}
