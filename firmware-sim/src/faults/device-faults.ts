/**
 * Device faults as scenario steps (`hazri sim --faults <spec>`): a fault
 * starts and ends at planned sim times, so it is part of the seeded plan and
 * of the ground truth (`fault` records), and it drives the same per-device
 * behaviours the tests use (setBehavior, unplug/replug).
 *
 * Spec: comma-separated `<device>:<id>:<fault>[=<n>]@<from>-<to>`, times in sim
 * seconds from the start, e.g. `reader:main-in:silent@60-120,ups:ups:corrupt@300-360`.
 * `ups` / `inverter` are aliases of `power` (a serial power device by id).
 */
import { HazriError } from "../../../protocol/errors.ts";
import type { SimCenter } from "../center.ts";
import type { TruthWriter } from "../ground-truth.ts";
import { powerOf } from "../devices/ups-plant.ts";

export type FaultDevice = "reader" | "relay" | "contact" | "radar" | "power" | "nut" | "seat";

/** Faults per device; `n` = takes a number (ms) after `=`, with its default. */
const FAULTS: Record<FaultDevice, Record<string, { n?: number; what: string }>> = {
  reader: { silent: { what: "no frames" }, corrupt: { what: "bad checksum / parity" }, noise: { what: "line noise before each frame" }, drip: { n: 5, what: "bytes one at a time, n ms apart" }, unplug: { what: "USB pulled (socat killed), back at the end" } },
  relay: { unplug: { what: "USB pulled, back at the end" } },
  contact: { silent: { what: "no lines" }, corrupt: { what: "garbled lines" }, noise: { what: "noise" }, drip: { n: 5, what: "drip-fed bytes" }, unplug: { what: "USB pulled" } },
  radar: { silent: { what: "no frames" }, corrupt: { what: "bad check byte" }, noise: { what: "noise" }, drip: { n: 5, what: "drip-fed bytes" }, flap: { n: 500, what: "presence toggles every n ms" }, unplug: { what: "USB pulled" } },
  power: {
    silent: { what: "reads commands, answers nothing" },
    late: { n: 2000, what: "answers n ms late" },
    corrupt: { what: "bad field (Q1) / bad CRC (QPIGS)" },
    noise: { what: "noise before each reply" },
    drip: { n: 5, what: "drip-fed replies" },
    stale: { what: "answers on time, readings frozen" },
    flap: { n: 2000, what: "the center's mains drops out / returns every n ms (wall; all power devices see it)" },
    unplug: { what: "USB pulled" },
  },
  nut: {
    stale: { what: "the .dev file stops being updated (dummy-ups serves frozen values)" },
    unplug: { what: "the .dev file removed (dummy-ups exits: driver not connected)" },
    flap: { n: 2000, what: "the center's mains drops out / returns every n ms (wall)" },
  },
  seat: {
    offline: { what: "power cut: LWT, back at the end" },
    stale: { what: "stays connected, stops publishing" },
    flap: { n: 1000, what: "state toggles every n ms (wall)" },
    late: { n: 2000, what: "publishes n ms late" },
    garbage: { what: "malformed state payloads" },
  },
};
const ALIAS: Record<string, FaultDevice> = { ups: "power", inverter: "power" };

export interface FaultSpec {
  device: FaultDevice;
  id: string;
  fault: string;
  value?: number;
  fromS: number;
  toS: number;
}

export type FaultAction = { at: number; kind: "fault"; device: FaultDevice; id: string; fault: string; value?: number; active: boolean };

export const FAULT_USAGE = `  --faults <spec>      device faults as scenario steps: <device>:<id>:<fault>[=<ms>]@<from>-<to>,...
                       (sim seconds), e.g. reader:main-in:silent@60-120,ups:ups:corrupt@300-360
${(Object.keys(FAULTS) as FaultDevice[]).filter((d) => Object.keys(FAULTS[d]).length > 0).map((d) => `                       ${d.padEnd(8)}${Object.entries(FAULTS[d]).map(([f, x]) => (x.n !== undefined ? `${f}=<ms>` : f)).join(" ")}`).join("\n")}
                       (ups and inverter = power)`;

/** Parse a --faults spec; throws Error with a CLI-ready message. */
export function parseFaults(spec: string): FaultSpec[] {
  return spec
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "")
    .map((item) => {
      const m = /^([a-z]+):([A-Za-z0-9_-]+):([a-z]+)(?:=(\d+))?@(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(item);
      if (!m) throw new Error(`--faults ${JSON.stringify(item)}: expected <device>:<id>:<fault>[=<ms>]@<from>-<to> (sim seconds)`);
      const [, dev, id, fault, n, from, to] = m as unknown as [string, string, string, string, string | undefined, string, string];
      const device = (ALIAS[dev] ?? dev) as FaultDevice;
      const table = FAULTS[device];
      if (!table) throw new Error(`--faults ${JSON.stringify(item)}: unknown device kind ${JSON.stringify(dev)} (${[...Object.keys(FAULTS), ...Object.keys(ALIAS)].join(", ")})`);
      const f = table[fault];
      if (!f) throw new Error(`--faults ${JSON.stringify(item)}: ${device} has no fault ${JSON.stringify(fault)} (${Object.keys(table).join(", ")})`);
      if (n !== undefined && f.n === undefined) throw new Error(`--faults ${JSON.stringify(item)}: ${fault} takes no =<ms>`);
      const fromS = Number(from);
      const toS = Number(to);
      if (!(toS > fromS)) throw new Error(`--faults ${JSON.stringify(item)}: the end must be after the start`);
      const value = n !== undefined ? Number(n) : f.n;
      return { device, id, fault, ...(value !== undefined ? { value } : {}), fromS, toS };
    });
}

/** Unknown ids for this center (all of them, for one clear error). */
export function checkFaults(center: Pick<SimCenter, "config">, faults: readonly FaultSpec[]): string[] {
  const c = center.config;
  const power = new Map((c.power ?? []).map((p) => [p.id, p.type]));
  const ok = (f: FaultSpec): boolean => {
    switch (f.device) {
      case "reader":
        return c.readers.some((r) => r.id === f.id);
      case "relay":
        return c.doors.some((d) => d.id === f.id);
      case "contact":
        return c.doors.some((d) => d.id === f.id && d.contact !== undefined);
      case "radar":
        return c.seats.some((s) => s.id === f.id && s.source === "ld2410");
      case "power":
        return power.has(f.id) && power.get(f.id) !== "nut";
      case "nut":
        return power.get(f.id) === "nut";
      case "seat":
        return c.seats.some((s) => s.id === f.id && s.source !== "ld2410");
    }
  };
  return faults.filter((f) => !ok(f)).map((f) => `--faults: center ${center.config.centerId} has no ${f.device} ${JSON.stringify(f.id)}${f.device === "contact" ? " with a door contact" : ""}`);
}

/** Start and end steps, sorted by time (stable). */
export function faultSteps(faults: readonly FaultSpec[]): FaultAction[] {
  return faults
    .flatMap((f) => {
      const base = { kind: "fault" as const, device: f.device, id: f.id, fault: f.fault, ...(f.value !== undefined ? { value: f.value } : {}) };
      return [
        { ...base, at: Math.round(f.fromS * 1000), active: true },
        { ...base, at: Math.round(f.toS * 1000), active: false },
      ];
    })
    .map((a, i) => ({ a, i }))
    .sort((x, y) => x.a.at - y.a.at || x.i - y.i)
    .map((x) => x.a);
}

/** Steps of one device run in order (plan-play.ts `key`). */
export const faultKey = (a: Pick<FaultAction, "device" | "id">): string => (a.device === "seat" ? `seat:${a.id}` : a.device === "reader" ? `reader:${a.id}` : `${a.device}:${a.id}`);

const NOISE = Uint8Array.from([0x00, 0xff, 0x55, 0x13, 0x7e, 0x30]);

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new HazriError("CONFIG_INVALID", `fault: no ${what}`);
  return v;
}

/**
 * Apply one fault step: the truth record first (the device misbehaves from this instant), then the device.
 * Ending a fault puts back only that fault's field, so overlapping faults on one device end independently.
 */
export async function applyFault(center: SimCenter, a: FaultAction, truth: TruthWriter): Promise<void> {
  truth.write({ kind: "fault", deviceKind: a.device, device: a.id, fault: a.fault, ...(a.value !== undefined ? { value: a.value } : {}), active: a.active });
  const on = a.active;
  const ms = a.value ?? 0;
  switch (a.device) {
    case "reader": {
      if (a.fault === "unplug") return on ? center.unplug("reader", a.id) : center.replug("reader", a.id);
      const r = must(center.devices.readers[a.id], `reader ${a.id}`).reader;
      if (a.fault === "silent") r.setBehavior({ silent: on });
      else if (a.fault === "corrupt") r.setBehavior({ corruptChecksum: on });
      else if (a.fault === "noise") r.setBehavior({ noise: on ? NOISE : null });
      else if (a.fault === "drip") r.setBehavior({ dripFeedMs: on ? ms : 0 });
      return;
    }
    case "relay":
      return on ? center.unplug("relay", a.id) : center.replug("relay", a.id);
    case "contact": {
      if (a.fault === "unplug") return on ? center.unplug("contact", a.id) : center.replug("contact", a.id);
      const c = must(center.devices.contacts[a.id], `door contact ${a.id}`).contact;
      if (a.fault === "silent") c.setBehavior({ silent: on });
      else if (a.fault === "corrupt") c.setBehavior({ corrupt: on });
      else if (a.fault === "noise") c.setBehavior({ noise: on ? NOISE : null });
      else if (a.fault === "drip") c.setBehavior({ dripFeedMs: on ? ms : 0 });
      return;
    }
    case "radar": {
      if (a.fault === "unplug") return on ? center.unplug("radar", a.id) : center.replug("radar", a.id);
      const r = must(center.devices.radars[a.id], `radar seat ${a.id}`).radar;
      if (a.fault === "silent") r.setBehavior({ silent: on });
      else if (a.fault === "corrupt") r.setBehavior({ corruptChecksum: on });
      else if (a.fault === "noise") r.setBehavior({ noise: on ? NOISE : null });
      else if (a.fault === "drip") r.setBehavior({ dripFeedMs: on ? ms : 0 });
      else if (a.fault === "flap") r.setBehavior({ flapMs: on ? ms : 0 });
      return;
    }
    case "power":
    case "nut":
      return applyPowerFault(center, a, ms);
    case "seat":
      return applySeatFault(center, a, ms, truth);
  }
}

/** stop() of a running mains flap, per center (one flap at a time: the mains is the center's). */
const flaps = new WeakMap<object, () => Promise<void>>();

async function applyPowerFault(center: SimCenter, a: FaultAction, ms: number): Promise<void> {
  const plant = must(powerOf(center), "power plant");
  const on = a.active;
  if (a.fault === "unplug") return on ? plant.unplug(a.id) : plant.replug(a.id);
  if (a.fault === "flap") {
    const stop = flaps.get(center);
    if (stop) {
      flaps.delete(center);
      await stop();
    }
    if (on) flaps.set(center, plant.flapMains(ms));
    return;
  }
  if (a.device === "nut") {
    if (a.fault === "stale") {
      const f = plant.nut(a.id);
      f.stale = on;
      if (!on) await f.update(); // the next write carries the true state again
    }
    return;
  }
  const d = plant.serial(a.id);
  if (a.fault === "stale") d.setBehavior({ stale: on });
  if (a.fault === "silent") d.setBehavior({ silent: on });
  else if (a.fault === "late") d.setBehavior({ lateMs: on ? ms : 0 });
  else if (a.fault === "corrupt") d.setBehavior({ corrupt: on });
  else if (a.fault === "noise") d.setBehavior({ noise: on ? NOISE : null });
  else if (a.fault === "drip") d.setBehavior({ dripFeedMs: on ? ms : 0 });
}

const GARBAGE = "\u0000ON\ufffd"; // a torn payload: neither ON nor OFF

async function applySeatFault(center: SimCenter, a: FaultAction, ms: number, truth: TruthWriter): Promise<void> {
  if (a.fault === "offline") {
    // A sensor that never had a broker (no --lan) has nothing to come back to: it stays as it was.
    if (!a.active && center.devices.seats[a.id]?.brokerUrl == null) return;
    return a.active ? center.seatOffline(a.id, { truth }) : center.seatOnline(a.id, { truth });
  }
  const sensor = must(center.devices.seats[a.id], `seat sensor ${a.id}`);
  const on = a.active;
  if (a.fault === "stale") sensor.setBehavior({ stale: on });
  else if (a.fault === "flap") sensor.setBehavior({ flapMs: on ? ms : 0 });
  else if (a.fault === "late") sensor.setBehavior({ lateMs: on ? ms : 0 });
  else if (a.fault === "garbage") sensor.setBehavior({ garbage: on ? GARBAGE : null });
}
