import { describe, expect, it, vi, afterEach } from "vitest";
import fc from "fast-check";
import { deriveSource, generatorRunning, initialPowerState, stepPower, type PowerInput, type PowerState } from "./state.ts";
import { fromNutVars, fromQ1, fromQpigs, type PowerReading } from "./reading.ts";
import { createPowerTracker } from "./monitor.ts";
import { decodeQ1 } from "../devices/megatec/decode.ts";
import { silentLogger } from "../../../protocol/clock.ts";
import type { EventDraft } from "../../../protocol/events.ts";
import { PowerEvent } from "../../../protocol/events.ts";

const R = (status: string): PowerReading => ({ ...fromNutVars({ "ups.status": status }) });

describe("deriveSource (table)", () => {
  it.each([
    ["OL", null, "mains"],
    ["OL CHRG", false, "mains"],
    ["OL", true, "generator"],
    ["OB DISCHRG", null, "battery"],
    ["OB DISCHRG", true, "battery"], // on battery while the generator cranks: still battery
    ["OB LB", null, "low_battery"],
    ["LB OB DISCHRG", null, "low_battery"], // a set: order does not matter (§5.4)
    ["OL FSD", null, "low_battery"], // §5.4: FSD treated like OB LB
    ["OB LB OFF", null, "down"],
    ["OL OFF", null, "down"],
    ["WAIT", null, "unknown"],
    ["", null, "unknown"],
  ] as const)("%s (generator %s) → %s", (status, gen, want) => {
    expect(deriveSource("ok", R(status), gen)).toBe(want);
  });
  it("a stale or absent link is unknown, whatever the last reading said", () => {
    expect(deriveSource("stale", R("OL"), null)).toBe("unknown");
    expect(deriveSource("none", R("OB LB OFF"), null)).toBe("unknown");
  });
});

const TOKENS = ["OL", "OB", "LB", "CHRG", "DISCHRG", "BYPASS", "OFF", "FSD", "CAL", "TRIM", "BOOST", "RB"];
const reading = fc.subarray(TOKENS).map((t) => R(t.join(" ")));
const input: fc.Arbitrary<PowerInput> = fc.oneof(
  reading.map((r) => ({ kind: "reading" as const, reading: r })),
  fc.constantFrom("stale" as const, "none" as const).map((link) => ({ kind: "link" as const, link })),
  fc.constantFrom(true, false, null).map((running) => ({ kind: "generator" as const, running })),
);

describe("stepPower properties", () => {
  it("commbad is never 'fine' and never 'down'; changed iff (source, link) changed; source = derive(state)", () => {
    fc.assert(
      fc.property(fc.array(input, { maxLength: 40 }), (inputs) => {
        let s: PowerState = initialPowerState;
        for (const i of inputs) {
          const { next, changed } = stepPower(s, i);
          if (next.link !== "ok") expect(next.source).toBe("unknown");
          expect(next.source).toBe(deriveSource(next.link, next.reading, next.generator));
          expect(changed).toBe(next.source !== s.source || next.link !== s.link);
          if (i.kind === "reading") expect(next.link).toBe("ok");
          s = next;
        }
      }),
      { numRuns: 1000 },
    );
  });
  it("a reading with OFF is always down; OB without OFF is never mains or generator", () => {
    fc.assert(
      fc.property(reading, fc.constantFrom(true, false, null), (r, g) => {
        const src = deriveSource("ok", r, g);
        if (r.status.includes("OFF")) expect(src).toBe("down");
        else if (r.status.includes("OB")) expect(["battery", "low_battery"]).toContain(src);
      }),
    );
  });
});

describe("readings from each source", () => {
  it("Q1 on battery with dead output → OFF → down", () => {
    const q = decodeQ1(Uint8Array.from("(000.0 000.0 000.0 000 00.0 20.1 29.0 11001001", (c) => c.charCodeAt(0)));
    if (!q.ok) throw new Error(q.detail);
    const r = fromQ1(q.status);
    expect(r.status).toEqual(["OB", "LB", "OFF"]);
    expect(deriveSource("ok", r, null)).toBe("down");
  });
  it("QPIGS: grid absent + capacity at threshold → OB LB DISCHRG", () => {
    const base = { gridV: 0, gridHz: 0, acOutV: 230, acOutHz: 50, acOutVA: 300, acOutW: 250, loadPct: 10, busV: 360, batteryV: 23.1, chargeA: 0, capacityPct: 20, heatsinkC: 35, pvA: 0, pvV: 0, sccBatteryV: 0, dischargeA: 12 };
    const status = { sbuPriorityVersion: false, configChanged: false, sccFirmwareUpdated: false, loadOn: true, batteryVoltageSteady: false, charging: false, sccCharging: false, acCharging: false };
    const r = fromQpigs({ ...base, status, fanOffsetMv10: null, eepromVersion: null, pvW: null, status2: null }, 20);
    expect(r.status).toEqual(["OB", "LB", "DISCHRG"]);
    expect(r.chargePct).toBe(20);
  });
  it("NUT vars: numbers parsed, junk is null; generatorRunning reads OL/OB", () => {
    const r = fromNutVars({ "ups.status": "OL CHRG", "battery.charge": "97", "battery.runtime": "1860", "input.voltage": "x" });
    expect(r).toMatchObject({ status: ["OL", "CHRG"], chargePct: 97, runtimeS: 1860, inputV: null });
    expect(generatorRunning(r)).toBe(true);
    expect(generatorRunning(R("OB"))).toBe(false);
    expect(generatorRunning(R("WAIT"))).toBeNull();
  });
});

describe("createPowerTracker", () => {
  afterEach(() => void vi.useRealTimers());
  it("records a transition on each change and a sample every sampleMs; events pass the protocol schema", () => {
    vi.useFakeTimers();
    const events: EventDraft[] = [];
    const t = createPowerTracker({ device: "ups1", record: (d) => events.push(d), sampleMs: 60_000, logger: silentLogger });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "power", source: "unknown", link: "none", transition: true, ups: null });
    t.input({ kind: "reading", reading: R("OL CHRG") });
    t.input({ kind: "reading", reading: R("OL") }); // same source: no event
    t.input({ kind: "reading", reading: R("OB DISCHRG") });
    t.input({ kind: "link", link: "stale" });
    vi.advanceTimersByTime(60_000);
    t.close();
    vi.advanceTimersByTime(600_000);
    expect(events.map((e) => (e.type === "power" ? [e.source, e.link, e.transition] : null))).toEqual([
      ["unknown", "none", true],
      ["mains", "ok", true],
      ["battery", "ok", true],
      ["unknown", "stale", true],
      ["unknown", "stale", false],
    ]);
    for (const e of events) {
      const full = { ...e, v: 1, centerId: "c1", bootId: "boot-1", seq: 1, ts: 0, mono: 0, synced: false };
      expect(PowerEvent.safeParse(full).success).toBe(true);
    }
  });
});
