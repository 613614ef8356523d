import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { crc16xmodem, encodeVoltronicCommand, voltronicCrcBytes } from "./crc.ts";
import { decodeQmod, decodeQpigs } from "./decode.ts";
import { fromHex, toHex } from "../frame.ts";

const asc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const QPIGS_PAYLOAD = "(230.0 50.0 230.0 50.0 0161 0119 003 360 26.50 012 085 0032 0004 085.2 26.55 00000 00010110 00 00 00341 010";
const withCrc = (payload: string) => {
  const a = asc(payload);
  return Uint8Array.from([...a, ...voltronicCrcBytes(a), 0x0d]);
};

describe("CRC-16/XMODEM + Voltronic escape (§4.2 command vectors)", () => {
  it("check value of 123456789 is 0x31C3", () => expect(crc16xmodem(asc("123456789"))).toBe(0x31c3));
  it.each([
    ["QPIGS", "51 50 49 47 53 B7 A9 0D"],
    ["QPIRI", "51 50 49 52 49 F8 54 0D"],
    ["QPIWS", "51 50 49 57 53 B4 DA 0D"],
    ["QFLAG", "51 46 4C 41 47 98 74 0D"],
    ["QDI", "51 44 49 71 1B 0D"],
    ["QPI", "51 50 49 BE AC 0D"],
    ["QVFW", "51 56 46 57 62 99 0D"],
    ["QMOD", "51 4D 4F 44 49 C1 0D"],
    ["QID", "51 49 44 D6 EA 0D"],
    ["POP02", "50 4F 50 30 32 E2 0B 0D"], // raw CRC E2 0A → sent E2 0B
  ])("%s", (cmd, hex) => expect(toHex(encodeVoltronicCommand(cmd))).toBe(toHex(fromHex(hex))));
  it("no transmitted CRC byte is ever CR, LF or (", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => voltronicCrcBytes(b).every((x) => x !== 0x0d && x !== 0x0a && x !== 0x28)), { numRuns: 3000 });
  });
});

describe("decodeQpigs (§4.2 vector)", () => {
  it("the verified 110-byte reply, CRC A1 E8", () => {
    const f = withCrc(QPIGS_PAYLOAD);
    expect(f.length).toBe(110);
    expect(toHex(f.slice(-3))).toBe("a1e80d");
    const r = decodeQpigs(f);
    if (!r.ok) throw new Error(r.detail);
    expect(r.status).toMatchObject({
      gridV: 230, gridHz: 50, acOutV: 230, acOutHz: 50, acOutVA: 161, acOutW: 119, loadPct: 3, busV: 360,
      batteryV: 26.5, chargeA: 12, capacityPct: 85, heatsinkC: 32, pvA: 4, pvV: 85.2, sccBatteryV: 26.55, dischargeA: 0,
      fanOffsetMv10: 0, eepromVersion: "00", pvW: 341, status2: { chargingToFloat: false, switchedOn: true },
    });
    expect(r.status.status).toEqual({
      sbuPriorityVersion: false, configChanged: false, sccFirmwareUpdated: false, loadOn: true,
      batteryVoltageSteady: false, charging: true, sccCharging: true, acCharging: false,
    });
  });
  it("17-field firmware: fields 18-21 null", () => {
    const r = decodeQpigs(withCrc(QPIGS_PAYLOAD.split(" ").slice(0, 17).join(" ")));
    expect(r.ok && r.status.pvW).toBeNull();
  });
  it("one flipped payload bit → CRC mismatch", () => {
    const f = withCrc(QPIGS_PAYLOAD);
    f[5] = (f[5] ?? 0) ^ 0x01;
    expect(decodeQpigs(f)).toMatchObject({ ok: false, code: "FRAME_CHECKSUM" });
  });
  it("(NAK → DEVICE_NAK; wrong field count; non-numeric field", () => {
    expect(decodeQpigs(withCrc("(NAK"))).toMatchObject({ ok: false, code: "DEVICE_NAK" });
    expect(decodeQpigs(withCrc("(230.0 50.0"))).toMatchObject({ ok: false, reason: "field_count" });
    expect(decodeQpigs(withCrc(QPIGS_PAYLOAD.replace("26.50", "26,50")))).toMatchObject({ ok: false, reason: "non_numeric", field: "batteryV" });
    expect(decodeQpigs(withCrc(QPIGS_PAYLOAD.replace("00010110", "0001011x")))).toMatchObject({ ok: false, reason: "status_bits" });
  });
  it("QMOD (B = 28 42 E7 C9 0D → battery", () => {
    expect(toHex(withCrc("(B"))).toBe("2842e7c90d");
    expect(decodeQmod(fromHex("2842e7c90d"))).toEqual({ ok: true, mode: "battery" });
  });
  it("never throws on random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 130 }), (b) => void decodeQpigs(b)), { numRuns: 2000 });
  });
});
