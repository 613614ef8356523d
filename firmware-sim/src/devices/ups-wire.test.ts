import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { encodeI, encodeQ1, q1Text } from "./ups-wire.ts";
import { encodeReply, parseCommand, qpigsPayload, withCrc, xmodem } from "./inverter-wire.ts";
import { SimPowerModel } from "./ups-battery.ts";
// Cross-check: the simulator's independent encoders against the edge's decoders.
import { decodeI, decodeQ1 } from "../../../edge/src/devices/megatec/decode.ts";
import { decodeQpigs } from "../../../edge/src/devices/qpigs/decode.ts";
import { encodeVoltronicCommand } from "../../../edge/src/devices/qpigs/crc.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("sim Megatec wire", () => {
  it("reproduces the §4.1 simulator vector byte for byte (47 bytes)", () => {
    const b = encodeQ1({ inputV: 229.8, inputFaultV: 229.8, outputV: 229.8, loadPct: 23, inputHz: 50, batteryV: 27.3, tempC: 31, bits: [false, false, false, false, true, false, false, true] });
    expect(Buffer.from(b).toString("latin1")).toBe("(229.8 229.8 229.8 023 50.0 27.3 31.0 00001001\r");
    expect(encodeI("COWORK-SIM", "LI-1500", "V1.02")).toHaveLength(39);
    expect(decodeI(encodeI("COWORK-SIM", "LI-1500", "V1.02"))).toMatchObject({ ok: true, model: "LI-1500" });
  });
  it("any model state encodes to 47 bytes the edge decodes to the same values", () => {
    fc.assert(
      fc.property(
        fc.record({
          inputV: fc.integer({ min: 0, max: 2999 }), outputV: fc.integer({ min: 0, max: 2999 }), loadPct: fc.integer({ min: 0, max: 150 }),
          hz: fc.integer({ min: 0, max: 650 }), batt: fc.integer({ min: 100, max: 999 }), bits: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        }),
        (r) => {
          const f = { inputV: r.inputV / 10, inputFaultV: r.inputV / 10, outputV: r.outputV / 10, loadPct: r.loadPct, inputHz: r.hz / 10, batteryV: r.batt / 10, tempC: 30, bits: r.bits as never };
          const b = encodeQ1(f);
          expect(b).toHaveLength(47);
          const d = decodeQ1(b);
          if (!d.ok) throw new Error(`${d.reason} ${q1Text(f)}`);
          expect(d.status).toMatchObject({ inputV: f.inputV, outputV: f.outputV, loadPct: f.loadPct, inputHz: f.inputHz, batteryV: f.batteryV });
          expect(d.status.bits.utilityFail).toBe(r.bits[0]);
          expect(d.status.bits.beeperOn).toBe(r.bits[7]);
        },
      ),
    );
  });
});

describe("sim Voltronic wire", () => {
  it("own CRC agrees with the edge's on the §4.2 command vectors; command parsing checks the CRC", () => {
    expect(xmodem(Uint8Array.from("123456789", (c) => c.charCodeAt(0)))).toBe(0x31c3);
    for (const c of ["QPIGS", "QMOD", "QPIRI", "POP02", "QID"]) {
      const edge = encodeVoltronicCommand(c);
      expect(parseCommand(edge.subarray(0, edge.length - 1))).toBe(c);
    }
    const bad = encodeVoltronicCommand("QPIGS");
    bad[5] = (bad[5] ?? 0) ^ 1;
    expect(parseCommand(bad.subarray(0, bad.length - 1))).toBeNull();
  });
  it("reproduces the §4.2 QPIGS vector (110 bytes, CRC A1 E8) and the edge decodes it", () => {
    const payload = qpigsPayload({
      gridV: 230, gridHz: 50, outV: 230, outHz: 50, outVA: 161, outW: 119, loadPct: 3, busV: 360, batteryV: 26.5, chargeA: 12,
      capacityPct: 85, heatsinkC: 32, pvA: 4, pvV: 85.2, sccV: 26.55, dischargeA: 0, status: "00010110", pvW: 341, status2: "010",
    });
    const b = encodeReply(payload);
    expect(b).toHaveLength(110);
    expect(hex(b.slice(-3))).toBe("a1e80d");
    expect(decodeQpigs(b)).toMatchObject({ ok: true, status: { capacityPct: 85, pvW: 341 } });
    expect(decodeQpigs(encodeReply(payload, true))).toMatchObject({ ok: false, code: "FRAME_CHECKSUM" });
    expect(hex(withCrc(Uint8Array.from([0x28, 0x42])))).toBe("2842e7c90d");
  });
});

describe("SimPowerModel", () => {
  it("discharges on battery, LB near the end, output off when empty, recharges on mains; generator after its start delay", () => {
    let now = 0;
    const m = new SimPowerModel({ capacityWh: 100, loadW: 600, chargeW: 100, lowPct: 20, generatorStartMs: 30_000, now: () => now });
    expect(m.nutStatus()).toBe("OL");
    m.setMains(false);
    now = 60_000; // 10 Wh used
    expect(m.snapshot()).toMatchObject({ utility: false, chargePct: 90, discharging: true, batteryLow: false });
    expect(m.nutStatus()).toBe("OB DISCHRG");
    const vHigh = m.snapshot().batteryV;
    now = 8.5 * 60_000; // 85 Wh used
    expect(m.nutStatus()).toBe("OB DISCHRG LB");
    expect(m.snapshot().batteryV).toBeLessThan(vHigh);
    now = 11 * 60_000;
    expect(m.snapshot()).toMatchObject({ chargePct: 0, outputOn: false, outputV: 0 });
    expect(m.nutStatus()).toBe("OB LB OFF");
    m.setGenerator(true);
    now += 10_000;
    expect(m.snapshot().generatorStarting).toBe(true);
    now += 20_000;
    expect(m.snapshot()).toMatchObject({ generator: true, utility: true, outputOn: true });
    expect(m.nutStatus()).toBe("OL CHRG");
    now += 36 * 60_000; // +60 Wh at 100 W
    expect(m.snapshot().chargePct).toBeCloseTo(60, 0);
  });
});
