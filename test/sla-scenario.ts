/**
 * Scripted ground truth for SLA tests and the SLA benchmark: a center's TRUE
 * power, WAN and edge-on/off timelines → the protocol events its edge would
 * have recorded (a `boot` event first thing each run, carrying the previous
 * run's last alive mark, then power and uplink transitions while on, a
 * heartbeat at boot and every heartbeat interval, a new boot id after every
 * dark period), and an
 * independent second-by-second oracle of the SLA definitions (docs/sla.md)
 * evaluated on the truth.
 */
import type { HazriEvent, PowerSource } from "../protocol/events.ts";
import type { Cause } from "../server/src/sla/compute.ts";
import type { Change, Interval } from "../server/src/sla/intervals.ts";

export interface TrueCenter {
  centerId: string;
  /** Window the edge's events are generated for. */
  from: number;
  to: number;
  power: Change<PowerSource>[];
  wan: Change<"up" | "down">[];
  /** Times the edge process was not running. */
  edgeOff: Interval[];
  heartbeatMs: number;
  /** Offset of the first heartbeat after `from` (so beats do not sit on round seconds). */
  phaseMs: number;
  /**
   * How late the edge notices a WAN drop (keepalive timeout, MQTT 3.1.1 §3.1.2.10): the `down`
   * event is recorded this much after the drop, carrying `lastContactTs` = the true drop time.
   */
  wanDetectLagMs?: number;
  /**
   * How long before the edge stopped its last alive mark was written (the edge marks every aliveMarkS,
   * default 1 s; protocol BootEvent). Default 700 ms. null: no boot events (an edge older than them).
   */
  aliveMarkLagMs?: number | null;
}

const stateAt = <S>(xs: readonly Change<S>[], t: number, dflt: S): S => {
  let s = dflt;
  for (const c of xs) {
    if (c.t > t) break;
    s = c.state;
  }
  return s;
};

/** On-segments of the edge within [from, to). */
export function onSegments(c: TrueCenter): Interval[] {
  const out: Interval[] = [];
  let cur = c.from;
  for (const off of [...c.edgeOff].sort((a, b) => a.start - b.start)) {
    if (off.start > cur) out.push({ start: cur, end: off.start });
    cur = Math.max(cur, off.end);
  }
  if (cur < c.to) out.push({ start: cur, end: c.to });
  return out;
}

/** What the edge records (unsorted across kinds; seq assigned in time order). */
export function edgeEvents(c: TrueCenter, extraPower: Change<PowerSource>[] = []): HazriEvent[] {
  const drafts: { t: number; boot: string; bootStart: number; e: Record<string, unknown> }[] = [];
  const power = [...c.power, ...extraPower].sort((a, b) => a.t - b.t);
  const segs = onSegments(c);
  const markLag = c.aliveMarkLagMs === undefined ? 700 : c.aliveMarkLagMs;
  segs.forEach((seg, i) => {
    const boot = `boot-${c.centerId}-${i}`.slice(0, 64);
    const add = (t: number, e: Record<string, unknown>) => drafts.push({ t, boot, bootStart: seg.start, e });
    const prev = segs[i - 1];
    if (markLag !== null)
      add(seg.start, {
        type: "boot",
        prevBootId: prev ? `boot-${c.centerId}-${i - 1}`.slice(0, 64) : null,
        prevAliveTs: prev ? Math.round(prev.end - markLag) : null,
        prevAliveSynced: prev !== undefined,
        prevEnd: prev ? "crash" : "unknown",
      });
    // At start the edge reads the UPS and connects: its first ledger entries.
    add(seg.start, { type: "power", source: stateAt(power, seg.start, "mains"), link: "ok", device: "ups", ups: null });
    add(seg.start, { type: "uplink", state: stateAt(c.wan, seg.start, "up") });
    for (const p of power) if (p.t > seg.start && p.t < seg.end) add(p.t, { type: "power", source: p.state, link: "ok", device: "ups", ups: null });
    const lag = c.wanDetectLagMs ?? 0;
    for (const w of c.wan) {
      if (w.t <= seg.start || w.t >= seg.end) continue;
      if (w.state === "down" && lag > 0) add(w.t + lag, { type: "uplink", state: "down", cause: "close", lastContactTs: w.t });
      else add(w.t, { type: "uplink", state: w.state });
    }
    const first = i === 0 ? seg.start + c.phaseMs : seg.start;
    for (let t = first; t < seg.end; t += c.heartbeatMs)
      add(t, { type: "heartbeat", outboxDepth: 0, devices: {}, uplinkRttMs: null, uptimeS: (t - seg.start) / 1000 });
  });
  drafts.sort((a, b) => a.t - b.t);
  return drafts.map((d, k) => ({
    v: 1,
    centerId: c.centerId,
    bootId: d.boot,
    seq: k + 1,
    ts: Math.round(d.t),
    mono: Math.round(d.t - d.bootStart),
    synced: true,
    ...d.e,
  })) as HazriEvent[];
}

export interface TruthOutage {
  start: number;
  end: number;
  cause: Cause;
  counted: "down" | "unknown";
}

/**
 * The SLA of the truth, second by second (1 s resolution: scripts use whole
 * seconds). Edge off with power present = unknown (edge_dark); edge off with
 * power down = down with the power cause.
 */
export function truthSla(c: TrueCenter, operating: readonly Interval[], excluded: readonly Interval[], extraPower: Change<PowerSource>[] = []) {
  const power = [...c.power, ...extraPower].sort((a, b) => a.t - b.t);
  const inAny = (xs: readonly Interval[], t: number) => xs.some((i) => i.start <= t && t < i.end);
  const outages: TruthOutage[] = [];
  const tot = { all: { up: 0, down: 0, unknown: 0 }, kept: { up: 0, down: 0, unknown: 0 } };
  for (const op of operating) {
    for (let t = op.start; t < op.end; t += 1000) {
      const src = stateAt(power, t, "mains" as PowerSource);
      const before = power.filter((p) => p.t <= t && p.state !== "down" && p.state !== "unknown");
      const lastPowered = before[before.length - 1]?.state;
      let status: "up" | "down" | "unknown" = "up";
      let cause: Cause | null = null;
      if (src === "down")
        [status, cause] = ["down", lastPowered === "generator" ? "generator" : lastPowered === "battery" || lastPowered === "low_battery" ? "ups_exhausted" : "mains_cut"];
      else if (inAny(c.edgeOff, t)) [status, cause] = ["unknown", "edge_dark"];
      else if (stateAt(c.wan, t, "up") === "down") [status, cause] = ["down", "internet"];
      tot.all[status]++;
      if (!inAny(excluded, t)) tot.kept[status]++;
      if (!cause) continue;
      const last = outages[outages.length - 1];
      if (last && last.end === t && last.cause === cause) last.end = t + 1000;
      else outages.push({ start: t, end: t + 1000, cause, counted: status === "down" ? "down" : "unknown" });
    }
  }
  const av = (x: { up: number; down: number }) => (100 * x.up) / (x.up + x.down);
  return { outages, availabilityAllPct: av(tot.all), availabilityPct: av(tot.kept), seconds: tot };
}
