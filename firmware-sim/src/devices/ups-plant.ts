/**
 * A center's power plant in the simulator: one SimPowerModel (mains,
 * generator, battery) seen by every power device of the center — Megatec Q1
 * UPSes and Voltronic inverters on their own pty pairs, and NUT UPSes written
 * to dummy-ups `.dev` files. The controls (`setMains`, `setGenerator`,
 * `setBattery`) satisfy scenario-run.ts's PowerControl, so a load-shedding
 * schedule drives the devices; the scenario runner writes the power ground
 * truth.
 */
import path from "node:path";
import { startPtyPair, type PtyPair } from "../pty.ts";
import { SimVoltronicInverter } from "./inverter-voltronic.ts";
import { SimNutDevFile } from "./nut-dev.ts";
import { SimPowerModel, type SimPowerModelOptions } from "./ups-battery.ts";
import { SimMegatecUps } from "./ups-megatec.ts";

export interface SimPowerSpec {
  id: string;
  type: "megatec" | "qpigs" | "nut";
  /** NUT only: the `.dev` file to write (default `<dir>/nut-<id>.dev`). */
  devFile?: string;
}

export type SimPowerDevice =
  | { spec: SimPowerSpec; type: "megatec"; hostPath: string; pty: PtyPair; device: SimMegatecUps }
  | { spec: SimPowerSpec; type: "qpigs"; hostPath: string; pty: PtyPair; device: SimVoltronicInverter }
  | { spec: SimPowerSpec; type: "nut"; devFile: string; device: SimNutDevFile };

export interface SimPowerPlant {
  readonly model: SimPowerModel;
  readonly devices: Record<string, SimPowerDevice>;
  /** Mains present or cut (load shedding). NUT files are rewritten at once. */
  setMains(on: boolean): Promise<void>;
  /** Generator running (the scenario applies the start delay itself; see SimPowerModelOptions.generatorStartMs). */
  setGenerator(on: boolean): Promise<void>;
  /** Align the battery with a scenario's planned charge (PowerControl.setBattery). */
  setBattery(s: { chargePct: number; lowBattery: boolean; onBattery: boolean }): Promise<void>;
  /** The serial device (UPS or inverter) with its behaviours; throws for unknown ids and NUT devices. */
  serial(id: string): SimMegatecUps | SimVoltronicInverter;
  /** The NUT `.dev` writer of a NUT device (stale, unplug); throws for unknown ids and serial devices. */
  nut(id: string): SimNutDevFile;
  /**
   * The center's mains drops out and comes back every `periodMs` (wall) while it is scheduled on;
   * every power device sees it. Returns stop() (mains steady again). Only one flap at a time.
   */
  flapMains(periodMs: number): () => Promise<void>;
  /** USB unplug of a serial power device (socat killed) / replug at the same path; NUT: the `.dev` file removed / written again. */
  unplug(id: string): Promise<void>;
  replug(id: string): Promise<void>;
  stop(): Promise<void>;
}

export async function createSimPowerPlant(o: {
  dir: string;
  specs: readonly SimPowerSpec[];
  model?: SimPowerModelOptions;
}): Promise<SimPowerPlant> {
  const model = new SimPowerModel(o.model);
  const devices: Record<string, SimPowerDevice> = {};
  const unplugged = new Set<string>();

  async function plugSerial(spec: SimPowerSpec): Promise<SimPowerDevice> {
    const pty = await startPtyPair({ dir: o.dir, name: `${spec.type === "megatec" ? "ups" : "inverter"}-${spec.id}` });
    try {
      if (spec.type === "megatec") return { spec, type: "megatec", hostPath: pty.hostPath, pty, device: await SimMegatecUps.open({ path: pty.devicePath, model }) };
      return { spec, type: "qpigs", hostPath: pty.hostPath, pty, device: await SimVoltronicInverter.open({ path: pty.devicePath, model }) };
    } catch (e) {
      await pty.stop();
      throw e;
    }
  }

  const nutFiles = () => Object.values(devices).flatMap((d) => (d.type === "nut" ? [d.device] : []));
  const refresh = async () => {
    await Promise.all(nutFiles().map((f) => f.update()));
  };

  let flap: { timer: NodeJS.Timeout } | null = null;
  const stop = async () => {
    if (flap) clearInterval(flap.timer);
    for (const d of Object.values(devices)) {
      await d.device.close().catch(() => undefined);
      if (d.type !== "nut") await d.pty.stop().catch(() => undefined);
    }
  };

  try {
    for (const spec of o.specs) {
      if (spec.type === "nut") {
        const file = spec.devFile ?? path.join(o.dir, `nut-${spec.id}.dev`);
        devices[spec.id] = { spec, type: "nut", devFile: file, device: await SimNutDevFile.create({ file, model }) };
      } else devices[spec.id] = await plugSerial(spec);
    }
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    model,
    devices,
    async setMains(on) {
      model.setMains(on);
      await refresh();
    },
    async setGenerator(on) {
      model.setGenerator(on);
      await refresh();
    },
    async setBattery(s) {
      model.setChargePct(s.chargePct);
      await refresh();
    },
    serial(id) {
      const d = devices[id];
      if (!d || d.type === "nut") throw new Error(`sim power: no serial power device ${JSON.stringify(id)}`);
      return d.device;
    },
    nut(id) {
      const d = devices[id];
      if (!d || d.type !== "nut") throw new Error(`sim power: no NUT device ${JSON.stringify(id)}`);
      return d.device;
    },
    flapMains(periodMs) {
      if (!(periodMs > 0)) throw new RangeError(`flap period must be > 0 ms, got ${periodMs}`);
      if (flap) throw new Error("sim power: the mains is already flapping");
      let out = false;
      const timer = setInterval(() => {
        out = !out;
        model.setMainsDropout(out);
        void refresh().catch(() => undefined);
      }, periodMs);
      timer.unref?.();
      const me = { timer };
      flap = me;
      return async () => {
        clearInterval(timer);
        if (flap === me) flap = null;
        model.setMainsDropout(false);
        await refresh();
      };
    },
    async unplug(id) {
      const d = devices[id];
      if (!d || unplugged.has(id)) return;
      unplugged.add(id);
      if (d.type === "nut") return d.device.unplug();
      await d.device.close();
      await d.pty.kill9();
    },
    async replug(id) {
      const d = devices[id];
      if (!d || !unplugged.has(id)) return;
      if (d.type === "nut") await d.device.replug();
      else devices[id] = await plugSerial(d.spec);
      unplugged.delete(id);
    },
    stop,
  };
}

/** The plant of a center made by createSimCenter (undefined for hand-made fakes). */
export function powerOf(center: object): SimPowerPlant | undefined {
  return (center as { power?: SimPowerPlant }).power;
}

/**
 * Edge config entries for the serial power devices (edge/src/power/config.ts).
 * NUT devices are left out: the edge needs the upsd that serves the `.dev`
 * file, which the simulator does not run (test/harness/nut.ts does).
 */
export function powerEdgeFragment(center: object): { power?: Array<{ id: string; type: "megatec" | "qpigs"; path: string }> } {
  const plant = powerOf(center);
  const list = Object.values(plant?.devices ?? {}).flatMap((d) => (d.type === "nut" ? [] : [{ id: d.spec.id, type: d.type, path: d.hostPath }]));
  return list.length > 0 ? { power: list } : {};
}

export function describePowerDevices(center: object): string[] {
  return Object.values(powerOf(center)?.devices ?? {}).map((d) =>
    d.type === "nut"
      ? `  power  ${d.spec.id.padEnd(12)} NUT dummy-ups file    ${d.devFile}`
      : `  power  ${d.spec.id.padEnd(12)} ${d.type === "megatec" ? "Megatec Q1 UPS  " : "Voltronic QPIGS "}     edge opens ${d.hostPath}`,
  );
}
