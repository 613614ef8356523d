/**
 * The edge's NUT path against a REAL upsd + dummy-ups (test/harness/nut.ts,
 * device-protocols.md §5.6), cross-checked with the real `upsc` CLI:
 *   - a `.dev` sequence OL → OB DISCHRG → OB LB → OL CHRG gives the right power
 *     transitions (writeDev bumps the mtime by whole seconds, §5.5);
 *   - a paused driver (DATA-STALE) and a killed driver (DRIVER-NOT-CONNECTED)
 *     are "stale" (source unknown), never "battery" or "down" (§5.3);
 *   - the simulator's NUT device (SimNutDevFile) writes the same file format:
 *     setMains(false) reaches the edge through NUT;
 *   - a generator-role NUT device turns "mains" into "generator".
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startNut, waitFor, type NutInstance } from "./harness/index.ts";
import { startPower, type PowerService } from "../edge/src/power/service.ts";
import { PowerDeviceConfig } from "../edge/src/power/config.ts";
import { SimNutDevFile } from "../firmware-sim/src/devices/nut-dev.ts";
import { SimPowerModel } from "../firmware-sim/src/devices/ups-battery.ts";
import { silentLogger } from "../protocol/clock.ts";
import type { EventDraft } from "../protocol/events.ts";

type PowerDraft = Extract<EventDraft, { type: "power" }>;
let nut: NutInstance | null = null;
let svc: PowerService | null = null;
let simFile: SimNutDevFile | null = null;
afterEach(async () => {
  await svc?.close();
  await simFile?.close();
  await nut?.stop();
  svc = null;
  nut = null;
  simFile = null;
});

const DEV = "ups.mfr: Simulated\nups.model: CW-1500\nups.status: OL CHRG\nbattery.charge: 97\nbattery.runtime: 1860\nbattery.voltage: 27.2\ninput.voltage: 228.5\noutput.voltage: 229.0\nups.load: 23\n";

async function edge(n: NutInstance, devices: Array<{ id: string; ups: string; role?: "ups" | "generator" }>) {
  const events: PowerDraft[] = [];
  svc = await startPower({
    devices: devices.map((d) => PowerDeviceConfig.parse({ type: "nut", host: n.host, port: n.port, pollMs: 300, staleAfterMs: 20_000, sampleMs: 0, ...d })),
    record: (d) => {
      if (d.type === "power") events.push(d);
    },
    logger: silentLogger,
  });
  const s = svc;
  const waitSource = (id: string, source: string, timeoutMs = 15_000) =>
    waitFor(() => s.states()[id]?.source === source, { timeoutMs, what: `${id} → ${source} (have ${JSON.stringify(s.states())})` });
  return { events, svc: s, waitSource };
}

describe("edge NUT client ⇄ real upsd + dummy-ups", () => {
  it("OL → OB DISCHRG → OB LB → OL CHRG: transitions and metrics agree with upsc", async () => {
    nut = await startNut({ upses: { "seat-ups": { file: "seat-ups.dev", content: DEV } } });
    const e = await edge(nut, [{ id: "ups1", ups: "seat-ups" }]);
    await e.waitSource("ups1", "mains");
    const steps: Array<[Record<string, string>, string]> = [
      [{ "ups.status": "OB DISCHRG", "battery.charge": "80", "input.voltage": "0.0" }, "battery"],
      [{ "ups.status": "OB DISCHRG LB", "battery.charge": "15" }, "low_battery"],
      [{ "ups.status": "OL CHRG", "battery.charge": "16", "input.voltage": "230.0" }, "mains"],
    ];
    for (const [vars, want] of steps) {
      await nut.writeDev("seat-ups", vars);
      await e.waitSource("ups1", want);
      const last = e.events.filter((x) => x.transition).at(-1)!;
      // Cross-check with the real upsc: same status token set, same charge.
      const upsc = await nut.upsc("seat-ups");
      expect(new Set(last.ups!.status)).toEqual(new Set(upsc["ups.status"]!.split(" ")));
      expect(last.ups!.chargePct).toBe(Number(upsc["battery.charge"]));
      expect(last.ups!.runtimeS).toBe(1860);
    }
    expect(e.events.filter((x) => x.transition).map((x) => x.source)).toEqual(["unknown", "mains", "battery", "low_battery", "mains"]);
    expect(e.svc.health()).toEqual({ ups1: "ok" });
  });

  it("paused driver → DATA-STALE → stale/unknown (never battery, never down); resumed → mains; killed driver → stale", async () => {
    nut = await startNut({ upses: { "seat-ups": { file: "seat-ups.dev", content: DEV } }, maxAge: 3 });
    const e = await edge(nut, [{ id: "ups1", ups: "seat-ups" }]);
    await e.waitSource("ups1", "mains");
    const driver = nut.drivers["seat-ups"]!;
    await driver.pause();
    try {
      await waitFor(() => e.svc.states().ups1?.link === "stale", { timeoutMs: 20_000, what: "link stale after MAXAGE" });
      await expect(nut.upsc("seat-ups", "ups.status")).rejects.toThrow(/stale/i);
      expect(e.svc.states().ups1).toEqual({ source: "unknown", link: "stale" });
      expect(e.svc.counters().ups1!.errors.DEVICE_STALE).toBeGreaterThan(0);
    } finally {
      await driver.resume();
    }
    await e.waitSource("ups1", "mains", 20_000);
    await driver.kill9();
    await waitFor(() => e.svc.states().ups1?.link === "stale", { timeoutMs: 20_000, what: "stale after driver killed" });
    await waitFor(() => (e.svc.counters().ups1!.errors.DEVICE_NOT_CONNECTED ?? 0) > 0, { timeoutMs: 10_000, what: "DRIVER-NOT-CONNECTED seen" });
    expect(e.events.some((x) => x.source === "battery" || x.source === "down")).toBe(false);
  });

  it("the simulator's NUT device: setMains(false) / exhausted battery reach the edge through dummy-ups; generator role → generator", async () => {
    nut = await startNut({
      upses: {
        "sim-ups": { file: "sim-ups.dev", content: DEV },
        gen: { file: "gen.dev", content: "ups.mfr: Simulated\nups.status: OB\n" },
      },
    });
    let now = 0;
    const model = new SimPowerModel({ capacityWh: 100, loadW: 600, now: () => now });
    simFile = await SimNutDevFile.create({ file: path.join(nut.dir, "etc", "sim-ups.dev"), model, intervalMs: 0 });
    const e = await edge(nut, [
      { id: "ups1", ups: "sim-ups" },
      { id: "gen", ups: "gen", role: "generator" },
    ]);
    await e.waitSource("ups1", "mains");
    model.setMains(false);
    await simFile.update();
    await e.waitSource("ups1", "battery");
    expect(await nut.upsc("sim-ups", "ups.status")).toBe("OB DISCHRG");
    now = 11 * 60_000; // battery empty: output off
    await simFile.update();
    await e.waitSource("ups1", "down");
    expect((await nut.upsc("sim-ups", "ups.status")).split(" ")).toContain("OFF");
    model.setGenerator(true); // the generator feeds the UPS input; the genset contact says it runs
    await simFile.update();
    await nut.writeDev("gen", { "ups.status": "OL" });
    await e.waitSource("ups1", "generator");
    expect(e.svc.health()).toEqual({ ups1: "ok", gen: "ok" });
    await nut.writeDev("gen", { "ups.status": "OB" });
    await e.waitSource("ups1", "mains"); // utility present, generator contact off → the mains is back (or unknown feed): mains
  });
});
