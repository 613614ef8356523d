import { describe, expect, it } from "vitest";
import { SimPowerModel } from "./devices/ups-battery.ts";
import { planPower, powerModelFor } from "./scenario-power.ts";

// A compressed power day: the battery model runs in sim time at the plan's rates (hazri sim passes powerModelFor(--speed)).
describe("powerModelFor: the devices' battery follows the plan's discharge line in sim time", () => {
  it("at 1440x, one load-shedding block without a generator: charge at every sim minute = the plan's line; LB and empty when the plan says", () => {
    const speed = 1440;
    const plan = planPower({ seed: 1, durationMs: 3 * 3_600_000, startHour: 9, loadShedding: [{ at: "10:00", hours: 1 }], unscheduledPerDay: 0, generator: null });
    expect(plan.map((p) => [p.at / 60_000, p.source, p.chargePct])).toEqual([
      [60, "battery", 100],
      [96, "low_battery", 20],
      [105, "down", 0],
      [120, "mains", 0],
    ]);
    let wall = 0;
    const model = new SimPowerModel({ ...powerModelFor(speed), now: () => wall });
    const at = (simMin: number) => (wall = (simMin * 60_000) / speed);
    at(60);
    model.setMains(false);
    for (let m = 60; m <= 96; m += 4) {
      at(m);
      const s = model.snapshot();
      expect(s.chargePct).toBeCloseTo(100 - ((m - 60) * 100) / 45, 0);
      expect(s.batteryLow).toBe(m >= 96);
    }
    at(105);
    expect(model.snapshot()).toMatchObject({ chargePct: 0, outputOn: false });
    at(120);
    model.setMains(true);
    at(120 + 60); // recharge: empty to full in 240 sim minutes
    expect(model.snapshot().chargePct).toBeCloseTo(25, 0);
  });
  it("the old default (no speed) would have drained in real time: 36 sim minutes at 1440x are 1.5 s of wall time", () => {
    let wall = 0;
    const model = new SimPowerModel({ now: () => wall });
    model.setMains(false);
    wall = (36 * 60_000) / 1440;
    expect(model.snapshot().chargePct).toBeGreaterThan(99);
  });
});
