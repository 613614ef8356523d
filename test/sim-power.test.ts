/**
 * The edge's power path against the simulator's bytes on real socat ptys
 * (issue 4 "Done when": each simulated device's bytes decoded by the edge's
 * decoders): a Megatec Q1 UPS and a Voltronic QPIGS inverter from
 * createSimPowerPlant, polled by the edge's startPower service. Mains cut →
 * battery → low battery → down → mains back; generator; corrupt replies,
 * silence (stale = unknown, never down), late answers, noise, unplug/replug.
 */
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir, removeDir, waitFor } from "./harness/index.ts";
import { createSimPowerPlant, type SimPowerPlant } from "../firmware-sim/src/devices/ups-plant.ts";
import type { SimPowerModelOptions } from "../firmware-sim/src/devices/ups-battery.ts";
import type { PowerControl } from "../firmware-sim/src/scenario-run.ts";
import { startPower, type PowerService } from "../edge/src/power/service.ts";
import { PowerDeviceConfig } from "../edge/src/power/config.ts";
import { silentLogger } from "../protocol/clock.ts";
import type { EventDraft } from "../protocol/events.ts";

let plant: SimPowerPlant | null = null;
let svc: PowerService | null = null;
let dir = "";
afterEach(async () => {
  await svc?.close();
  await plant?.stop();
  svc = null;
  plant = null;
  if (dir) await removeDir(dir);
});

type PowerDraft = Extract<EventDraft, { type: "power" }>;

async function setup(model: SimPowerModelOptions = {}) {
  dir = await makeTempDir("sim-power");
  // speed 60: one real second = one model minute, so a 10-minute battery empties in seconds.
  plant = await createSimPowerPlant({
    dir,
    specs: [
      { id: "ups", type: "megatec" },
      { id: "inv", type: "qpigs" },
    ],
    model: { capacityWh: 100, loadW: 600, chargeW: 600, speed: 60, ...model },
  });
  const events: PowerDraft[] = [];
  const p = plant;
  const hostPath = (id: string) => {
    const d = p.devices[id];
    if (!d || d.type === "nut") throw new Error(id);
    return d.hostPath;
  };
  svc = await startPower({
    devices: [
      PowerDeviceConfig.parse({ id: "ups", type: "megatec", path: hostPath("ups"), pollMs: 200, staleAfterMs: 1000, sampleMs: 0, battery: { emptyV: 21, fullV: 25.8 } }),
      PowerDeviceConfig.parse({ id: "inv", type: "qpigs", path: hostPath("inv"), pollMs: 200, staleAfterMs: 1000, sampleMs: 0 }),
    ],
    record: (d) => {
      if (d.type === "power") events.push(d);
    },
    logger: silentLogger,
    serialBackoff: { initialMs: 50, maxMs: 200 },
  });
  const sources = (id: string) => events.filter((e) => e.device === id && e.transition).map((e) => e.source);
  const waitSource = (id: string, source: string, timeoutMs = 8000) =>
    waitFor(() => svc!.states()[id]?.source === source, { timeoutMs, what: `${id} → ${source} (have ${JSON.stringify(svc!.states())})` });
  return { plant: p, svc: svc!, events, sources, waitSource };
}

describe("sim UPS + inverter ⇄ edge power service over real ptys", () => {
  it("mains cut → battery → low battery → down; mains back → mains; every transition is one power event", async () => {
    const t = await setup();
    await t.waitSource("ups", "mains");
    await t.waitSource("inv", "mains");
    expect(t.svc.health()).toEqual({ ups: "ok", inv: "ok" });
    await t.plant.setMains(false);
    await t.waitSource("ups", "battery");
    await t.waitSource("inv", "battery");
    // 100 Wh at 600 W = 10 model minutes = 10 s; LB at 20 % (8 s), empty at 10 s.
    await t.waitSource("ups", "low_battery", 15_000);
    await t.waitSource("inv", "low_battery", 15_000);
    await t.waitSource("ups", "down", 15_000);
    await t.waitSource("inv", "down", 15_000);
    await t.plant.setMains(true);
    await t.waitSource("ups", "mains");
    await t.waitSource("inv", "mains");
    for (const id of ["ups", "inv"]) expect(t.sources(id)).toEqual(["unknown", "mains", "battery", "low_battery", "down", "mains"]);
    const lb = t.events.find((e) => e.device === "ups" && e.source === "low_battery")!;
    expect(lb.ups?.status).toEqual(expect.arrayContaining(["OB", "LB"]));
    expect(lb.ups?.chargePct).not.toBeNull(); // estimated from battery V (Q1 has no %)
    const inv = t.events.find((e) => e.device === "inv" && e.source === "battery")!;
    expect(inv.ups).toMatchObject({ inputV: 0, outputV: 230 });
  });

  it("corrupt replies and silence make the link stale (unknown, never down); late answers are dropped; noise is skipped; recovery is automatic", async () => {
    const t = await setup();
    await t.waitSource("ups", "mains");
    await t.waitSource("inv", "mains");
    const ups = t.plant.serial("ups");
    const inv = t.plant.serial("inv");
    ups.setBehavior({ corrupt: true });
    inv.setBehavior({ corrupt: true });
    await t.waitSource("ups", "unknown");
    await t.waitSource("inv", "unknown");
    expect(t.svc.states()).toEqual({ ups: { source: "unknown", link: "stale" }, inv: { source: "unknown", link: "stale" } });
    expect(t.svc.health()).toEqual({ ups: "degraded", inv: "degraded" });
    const c = t.svc.counters();
    expect(c.ups!.errors.FRAME_FORMAT).toBeGreaterThan(0);
    expect(c.inv!.errors.FRAME_CHECKSUM).toBeGreaterThan(0);
    ups.setBehavior({ corrupt: false, noise: Uint8Array.from([0x00, 0xff, 0x41, 0x0d, 0x42]) });
    inv.setBehavior({ corrupt: false, dripFeedMs: 1 });
    await t.waitSource("ups", "mains");
    await t.waitSource("inv", "mains");
    ups.setBehavior({ noise: null, silent: true });
    await t.waitSource("ups", "unknown");
    ups.setBehavior({ silent: false, lateMs: 700 }); // default deadline min(1500, pollMs - 1) = 199 ms
    await waitFor(() => t.svc.counters().ups!.late > 0, { timeoutMs: 8000, what: "a late answer counted" });
    expect(t.svc.states().ups?.source).toBe("unknown");
    ups.resetBehavior();
    await t.waitSource("ups", "mains");
    expect(t.events.some((e) => e.source === "down")).toBe(false);
  });

  it("unplug (socat killed) → stale; replug at the same path → the poller reopens and reads again", async () => {
    const t = await setup();
    await t.waitSource("ups", "mains");
    await t.plant.unplug("ups");
    await t.waitSource("ups", "unknown");
    expect(["down", "degraded"]).toContain(t.svc.health().ups);
    await t.plant.replug("ups");
    await t.waitSource("ups", "mains", 15_000);
    expect(t.svc.health().ups).toBe("ok");
  });

  it("generator: utility from the generator after mains cut reads as mains on a plain UPS (config decides), battery while it cranks", async () => {
    const t = await setup({ generatorStartMs: 60_000 }); // one model minute = 1 s real
    await t.waitSource("ups", "mains");
    const control: PowerControl = t.plant; // what runScenario drives (scenario engineer's load-shedding schedules)
    await control.setMains(false);
    await control.setGenerator(true);
    await t.waitSource("ups", "battery");
    await t.waitSource("ups", "mains", 8000); // the UPS cannot tell; a generator-role device would (see edge-power-nut test)
    expect(t.plant.model.snapshot()).toMatchObject({ mains: false, generator: true, utility: true });
  });
});
