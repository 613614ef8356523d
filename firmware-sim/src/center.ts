/**
 * One simulated co-working center: an RDM6300 reader per reader id and an LCUS
 * relay per door, each on its own socat pty pair (the edge opens `hostPath`),
 * plus ESPHome seat sensors on the edge's LAN broker, all writing ground truth.
 */
import path from "node:path";
import { mkdir } from "node:fs/promises";
import type { Clock } from "../../protocol/clock.ts";
import { systemClock } from "../../protocol/clock.ts";
import { HazriError } from "../../protocol/errors.ts";
import { SimCardReader, type TapOptions } from "./devices/rdm6300.ts";
import { SimRelay } from "./devices/relay.ts";
import { SimSeatSensor } from "./devices/seat-sensor.ts";
import { toHex } from "./devices/rdm6300-wire.ts";
import { openGroundTruth, type GroundTruth, type GroundTruthRecord, type TruthWriter } from "./ground-truth.ts";
import { expectedDecision, indexCards, type Expectation, type SimMember } from "./members.ts";
import { createListenerProbe } from "./listener.ts";
import { startPtyPair, type PtyPair } from "./pty.ts";
import { createSimPowerPlant, type SimPowerPlant, type SimPowerSpec } from "./devices/ups-plant.ts";
import type { SimPowerModelOptions } from "./devices/ups-battery.ts";
import { openSimWiegandReader, type SimLineReader } from "./devices/wiegand.ts";
import { openSimWedgeReader } from "./devices/wedge.ts";
import { createContactPlant, type SimContactEntry, type SimContactSpec } from "./devices/door-contact-plant.ts";
import { createRadarPlant, type SimRadarEntry } from "./devices/ld2410-plant.ts";

export type { SimMember } from "./members.ts";

export interface SimReaderSpec {
  id: string;
  door: string;
  direction: "in" | "out";
  /** Wire format (default rdm6300): RDM6300 frames, Wiegand bridge lines (`bits` 26|34), or wedge digits. */
  type?: "rdm6300" | "wiegand" | "wedge";
  bits?: 26 | 34;
}
export interface SimDoorSpec {
  id: string;
  /** LCUS relay channel (1-based) that unlocks this door. */
  channel: number;
  /** A reed switch on a bridge pty `contact-<door>` (devices/door-contact-plant.ts). */
  contact?: SimContactSpec;
}
export interface SimSeatSpec {
  id: string;
  zone: string;
  /** ESPHome node name (= MQTT clientId and topic prefix, §7.4). */
  node: string;
  /** Binary sensor object id, e.g. `seat_occupied`. */
  object: string;
  /** `ld2410`: a radar on a pty `radar-<seat>` instead of an MQTT sensor (node/object unused). */
  source?: "mqtt" | "ld2410";
  /** MQTT sensors: esphome (default) or tasmota (`node` = %topic%, `object` = POWER<n> or Switch<n>). */
  convention?: "esphome" | "tasmota";
  /** Tasmota TelePeriod in ms (default 300 000). */
  telePeriodMs?: number;
}

export interface SimCenterOptions {
  centerId: string;
  /** ptys (`rfid-<reader>`, `relay-<door>`) and `ground-truth.jsonl` live here. */
  dir: string;
  seed: number;
  lanBrokerUrl?: string;
  readers: SimReaderSpec[];
  doors: SimDoorSpec[];
  seats: SimSeatSpec[];
  members: SimMember[];
  clock?: Clock;
  /**
   * Before each tap, check that some process has the reader's host pty open and
   * record the tap as undelivered (writing nothing) when none has: a real
   * UART drops bytes nobody reads, a pty would queue them (listener.ts). Default true.
   */
  requireListener?: boolean;
  /** Center's minutes east of UTC for plan end dates (default +300, PKT; must match the edge's). */
  utcOffsetMin?: number;
  /** Ground-truth file (default `<dir>/ground-truth.jsonl`). */
  groundTruthFile?: string;
  /** UPSes / inverters (ptys `ups-<id>`, `inverter-<id>`) and NUT `.dev` files (devices/ups-plant.ts). */
  power?: SimPowerSpec[];
  /** Battery, load and generator of the center's power model. */
  powerModel?: SimPowerModelOptions;
}

/** Where a device action writes its ground truth: default the center's file; a scenario passes its ordered slot (truth-order.ts). */
export interface TruthTarget {
  truth?: TruthWriter;
}

export interface TapOutcome extends Expectation {
  record: GroundTruthRecord;
  /** performance.now() when the last byte of the first frame was drained; NaN if the reader is silent. */
  firstFrameAt: number;
}

export interface SimCenter {
  centerId: string;
  config: Readonly<SimCenterOptions>;
  devices: {
    readers: Record<string, { hostPath: string; reader: SimCardReader | SimLineReader; pty: PtyPair; spec: SimReaderSpec }>;
    relays: Record<string, { hostPath: string; relay: SimRelay; pty: PtyPair; spec: SimDoorSpec }>;
    seats: Record<string, SimSeatSensor>;
    contacts: Record<string, SimContactEntry>;
    radars: Record<string, SimRadarEntry>;
  };
  groundTruth: GroundTruth;
  connectSeats(url: string, timeoutMs?: number): Promise<void>;
  /** Present a card at a reader; ground truth is written as soon as the first frame is out. */
  tap(readerId: string, cardId: string, opts?: Pick<TapOptions, "holdMs"> & TruthTarget): Promise<TapOutcome>;
  /** Change a seat's measured occupancy (publishes if the sensor is online). */
  setSeat(seatId: string, occupied: boolean, opts?: TruthTarget): Promise<void>;
  /** Sensor power cut (LWT) / power back. */
  seatOffline(seatId: string, opts?: TruthTarget): Promise<void>;
  seatOnline(seatId: string, opts?: TruthTarget): Promise<void>;
  /**
   * USB unplug of a reader or a door's relay board: the sim closes its side and
   * socat is SIGKILLed, so both ptys vanish (reliability-matrix §7 test bed).
   * Taps on an unplugged reader are recorded with delivered=false.
   */
  unplug(kind: SimUnplugKind, id: string): Promise<void>;
  /** Replug: a new socat at the same link paths (new /dev/pts/N), device reopened with default behaviours. */
  replug(kind: SimUnplugKind, id: string): Promise<void>;
  /** Replace the simulator's member model (e.g. after the lead changes the server's member list). */
  setMembers(members: SimMember[]): void;
  stop(): Promise<void>;
}

/** contact = a door's reed-switch bridge (id = door id); radar = a seat's LD2410 (id = seat id). */
export type SimUnplugKind = "reader" | "relay" | "contact" | "radar";

function must<T>(rec: Record<string, T>, id: string, what: string): T {
  const v = rec[id];
  if (v === undefined) throw new HazriError("CONFIG_INVALID", `sim center: unknown ${what} ${JSON.stringify(id)}`);
  return v;
}

/** Power controls of a center made by createSimCenter (devices/ups-plant.ts). */
export interface SimCenterPower {
  /** The power plant: model, devices (`power.devices[id].hostPath`), controls; satisfies scenario-run.ts's PowerControl. */
  power: SimPowerPlant;
  /** Mains on/off (load shedding) for every power device of the center. */
  setMains(on: boolean): Promise<void>;
  /** Generator running (the caller applies the start delay). */
  setGenerator(on: boolean): Promise<void>;
}

export async function createSimCenter(opts: SimCenterOptions): Promise<SimCenter & SimCenterPower> {
  const clock = opts.clock ?? systemClock;
  await mkdir(opts.dir, { recursive: true });
  const groundTruth = openGroundTruth(opts.groundTruthFile ?? path.join(opts.dir, "ground-truth.jsonl"), clock.now);
  const readers: SimCenter["devices"]["readers"] = {};
  const relays: SimCenter["devices"]["relays"] = {};
  const seats: Record<string, SimSeatSensor> = {};
  const unplugged = new Set<string>();
  const probe = createListenerProbe();
  let byCard = indexCards(opts.members);
  const doorIds = new Set(opts.doors.map((d) => d.id));

  // One pty pair + opened device; on an open failure the pty is not leaked.
  async function plug<T>(name: string, open: (devicePath: string) => Promise<T>): Promise<{ pty: PtyPair; dev: T }> {
    const pty = await startPtyPair({ dir: opts.dir, name });
    try {
      return { pty, dev: await open(pty.devicePath) };
    } catch (e) {
      await pty.stop();
      throw e;
    }
  }
  const plugReader = (r: SimReaderSpec) =>
    plug<SimCardReader | SimLineReader>(`rfid-${r.id}`, (p) =>
      r.type === "wiegand" ? openSimWiegandReader({ path: p, bits: r.bits ?? 26 }) : r.type === "wedge" ? openSimWedgeReader({ path: p }) : SimCardReader.open({ path: p }),
    );
  const contactPlant = createContactPlant({ plug, groundTruth });
  const radarPlant = createRadarPlant({ plug, groundTruth });
  const plugRelay = async (d: SimDoorSpec) => {
    const x = await plug(`relay-${d.id}`, (p) => SimRelay.open({ path: p, now: clock.now }));
    x.dev.on("command", (c) => {
      if (c.channel !== d.channel) return;
      groundTruth.write({ t: c.wallAt, kind: "relay", door: d.id, channel: c.channel, on: c.on });
      contactPlant.onRelay(d.id, c.on); // a granted member walks through
    });
    return x;
  };

  let power: SimPowerPlant | null = null;
  const teardown = async (): Promise<void> => {
    await power?.stop().catch(() => undefined);
    await contactPlant.stop();
    await radarPlant.stop();
    await Promise.all(Object.values(seats).map((s) => s.close().catch(() => undefined)));
    for (const e of Object.values(readers)) {
      await e.reader.close().catch(() => undefined);
      await e.pty.stop().catch(() => undefined);
    }
    for (const e of Object.values(relays)) {
      await e.relay.close().catch(() => undefined);
      await e.pty.stop().catch(() => undefined);
    }
  };

  try {
    for (const r of opts.readers) {
      if (!doorIds.has(r.door)) throw new HazriError("CONFIG_INVALID", `reader ${r.id}: unknown door ${r.door}`);
      const { pty, dev } = await plugReader(r);
      readers[r.id] = { hostPath: pty.hostPath, reader: dev, pty, spec: r };
    }
    for (const d of opts.doors) {
      const { pty, dev } = await plugRelay(d);
      relays[d.id] = { hostPath: pty.hostPath, relay: dev, pty, spec: d };
      if (d.contact) await contactPlant.add(d.id, d.contact);
    }
    for (const s of opts.seats) {
      if (s.source === "ld2410") await radarPlant.add(s.id, s.zone);
      else
        seats[s.id] = new SimSeatSensor({
          node: s.node,
          object: s.object,
          ...(s.convention ? { convention: s.convention } : {}),
          ...(s.telePeriodMs !== undefined ? { telePeriodMs: s.telePeriodMs } : {}),
        });
    }
    power = await createSimPowerPlant({ dir: opts.dir, specs: opts.power ?? [], ...(opts.powerModel ? { model: opts.powerModel } : {}) });
  } catch (e) {
    await teardown();
    throw e;
  }

  const plant = power as unknown as SimPowerPlant; // set in the try block above, or we threw
  const seatSpec = (id: string): SimSeatSpec => {
    const s = opts.seats.find((x) => x.id === id);
    if (!s) throw new HazriError("CONFIG_INVALID", `sim center: unknown seat ${JSON.stringify(id)}`);
    return s;
  };

  groundTruth.write({ kind: "start", centerId: opts.centerId, seed: opts.seed });
  let stopped = false;

  const center: SimCenter & SimCenterPower = {
    centerId: opts.centerId,
    config: opts,
    devices: { readers, relays, seats, contacts: contactPlant.contacts, radars: radarPlant.radars },
    power: plant,
    setMains: (on) => plant.setMains(on),
    setGenerator: (on) => plant.setGenerator(on),
    groundTruth,
    async connectSeats(url, timeoutMs = 10_000) {
      await Promise.all(
        opts.seats.filter((s) => s.source !== "ld2410").map(async (s) => {
          await must(seats, s.id, "seat").connect(url, timeoutMs);
          groundTruth.write({ kind: "seat_status", seat: s.id, node: s.node, online: true });
        }),
      );
    },
    async tap(readerId, cardId, tapOpts = {}) {
      const entry = must(readers, readerId, "reader");
      const truth = tapOpts.truth ?? groundTruth;
      const { spec } = entry;
      const card = cardId.toUpperCase();
      type TapRecord = Extract<GroundTruthRecord, { kind: "tap" }>;
      const writeTruth = (undelivered?: TapRecord["undelivered"]): TapRecord => {
        // Expectation is evaluated at the true instant the card is read.
        const exp = expectedDecision(byCard.get(card), clock.now(), opts.utcOffsetMin, spec.direction);
        return truth.write({
          kind: "tap",
          reader: readerId,
          door: spec.door,
          direction: spec.direction,
          cardId: card,
          ...exp,
          delivered: undelivered === undefined,
          ...(undelivered ? { undelivered } : {}),
        }) as TapRecord;
      };
      const outcome = (r: TapRecord, firstFrameAt: number): TapOutcome => ({
        record: r,
        firstFrameAt,
        memberId: r.memberId,
        expected: r.expected,
        reason: r.reason,
      });
      // A card held to an unplugged reader, or to one nobody reads: nothing reaches the edge.
      if (unplugged.has(`reader:${readerId}`)) return outcome(writeTruth("unplugged"), Number.NaN);
      if ((opts.requireListener ?? true) && !(await probe(entry.hostPath, entry.pty.pid))) {
        return outcome(writeTruth("no_listener"), Number.NaN);
      }
      const b = entry.reader.behavior;
      let record: TapRecord | undefined;
      const firstFrameAt = await entry.reader.tap(card, {
        ...(tapOpts.holdMs !== undefined ? { holdMs: tapOpts.holdMs } : {}),
        onFirstFrame: () => {
          record = writeTruth(b.corruptChecksum ? "corrupt" : undefined);
        },
      });
      record ??= writeTruth("silent"); // silent reader: nothing went out
      return outcome(record, firstFrameAt);
    },
    async setSeat(seatId, occupied, o = {}) {
      const s = seatSpec(seatId);
      const truth = o.truth ?? groundTruth;
      if (radarPlant.set(seatId, occupied, truth)) return; // LD2410 seat: the radar streams what it sees
      const published = await must(seats, seatId, "seat").setOccupied(occupied);
      truth.write({ kind: "seat", seat: s.id, zone: s.zone, node: s.node, occupied, published });
    },
    async seatOffline(seatId, o = {}) {
      const s = seatSpec(seatId);
      await must(seats, seatId, "seat").goOffline();
      (o.truth ?? groundTruth).write({ kind: "seat_status", seat: s.id, node: s.node, online: false });
    },
    async seatOnline(seatId, o = {}) {
      const s = seatSpec(seatId);
      await must(seats, seatId, "seat").comeBack();
      (o.truth ?? groundTruth).write({ kind: "seat_status", seat: s.id, node: s.node, online: true });
    },
    async unplug(kind, id) {
      const key = `${kind}:${id}`;
      if (unplugged.has(key)) return;
      unplugged.add(key);
      if (kind === "contact") {
        must(contactPlant.contacts, id, "door contact");
        await contactPlant.unplug(id);
      } else if (kind === "radar") {
        must(radarPlant.radars, id, "radar seat");
        await radarPlant.unplug(id);
      } else if (kind === "reader") {
        const e = must(readers, id, "reader");
        await e.reader.close();
        await e.pty.kill9();
      } else {
        const e = must(relays, id, "door");
        await e.relay.close();
        await e.pty.kill9();
      }
      groundTruth.write({ kind: "device", deviceKind: kind, device: id, state: "unplugged" });
    },
    async replug(kind, id) {
      const key = `${kind}:${id}`;
      if (!unplugged.has(key)) return;
      if (kind === "contact") await contactPlant.replug(id);
      else if (kind === "radar") await radarPlant.replug(id);
      else if (kind === "reader") {
        const e = must(readers, id, "reader");
        const { pty, dev } = await plugReader(e.spec);
        Object.assign(e, { pty, reader: dev, hostPath: pty.hostPath });
      } else {
        const e = must(relays, id, "door");
        const { pty, dev } = await plugRelay(e.spec);
        Object.assign(e, { pty, relay: dev, hostPath: pty.hostPath });
      }
      unplugged.delete(key);
      groundTruth.write({ kind: "device", deviceKind: kind, device: id, state: "replugged" });
    },
    setMembers(members) {
      byCard = indexCards(members);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // Powering the sensors off fires their Wills at the edge: that is true device behaviour, so record it.
      for (const s of opts.seats) {
        if (seats[s.id]?.connected) groundTruth.write({ kind: "seat_status", seat: s.id, node: s.node, online: false });
      }
      groundTruth.write({ kind: "stop", centerId: opts.centerId });
      await teardown();
    },
  };

  if (opts.lanBrokerUrl) {
    try {
      await center.connectSeats(opts.lanBrokerUrl);
    } catch (e) {
      await teardown();
      throw e;
    }
  }
  return center;
}

/** Log helper for fault injection that bypasses tap(): raw bytes at a reader, recorded as such. */
export async function sendRawAt(center: SimCenter, readerId: string, bytes: Uint8Array): Promise<void> {
  const { reader } = must(center.devices.readers, readerId, "reader");
  await reader.sendRaw(bytes);
  center.groundTruth.write({ kind: "raw", reader: readerId, hex: toHex(bytes, "") });
}
