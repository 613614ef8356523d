import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeF, decodeI, decodeQ1, estimateChargePct, Q1_COMMAND } from "./decode.ts";

const enc = (s: string) => Uint8Array.from(s + "\r", (c) => c.charCodeAt(0));

// Corpus: device-protocols.md §4.1 "Test vectors" (verified by verify-all.mjs).
describe("decodeQ1 corpus (§4.1)", () => {
  it("protocol-document example: bypass + UPS failed, on-line type → OL BYPASS + alarm", () => {
    const r = decodeQ1(enc("(208.4 140.0 208.4 034 59.9 2.05 35.0 00110000"));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.status).toMatchObject({ inputV: 208.4, inputFaultV: 140, outputV: 208.4, loadPct: 34, inputHz: 59.9, batteryV: 2.05, tempC: 35 });
    expect(r.status.bits).toEqual({
      utilityFail: false, batteryLow: false, bypassBoost: true, upsFailed: true,
      standby: false, testInProgress: false, shutdownActive: false, beeperOn: false,
    });
    expect(r.status.nutStatus).toEqual(["OL", "BYPASS", "ALARM"]);
    expect(r.status.alarm).toBe("UPS selftest failed!");
  });
  it("on battery, battery low, standby type, beeper on → OB LB", () => {
    const r = decodeQ1(enc("(000.0 000.0 219.0 041 50.0 22.1 29.0 11001001"));
    if (!r.ok) throw new Error(r.detail);
    expect(r.status.nutStatus).toEqual(["OB", "LB"]);
    expect(r.status.bits).toMatchObject({ utilityFail: true, batteryLow: true, standby: true, beeperOn: true, upsFailed: false });
    expect(r.status.batteryV).toBe(22.1);
  });
  it("b5 with out/in = 0.90 → TRIM; 1.16 → BOOST", () => {
    const t = decodeQ1(enc("(250.0 250.0 225.0 020 50.0 27.2 30.0 00101001"));
    const b = decodeQ1(enc("(190.0 190.0 221.0 020 50.0 27.2 30.0 00101001"));
    expect(t.ok && t.status.nutStatus).toEqual(["OL", "TRIM"]);
    expect(b.ok && b.status.nutStatus).toEqual(["OL", "BOOST"]);
  });
  it("@-filled fields are null", () => {
    const r = decodeQ1(enc("(230.0 @@@.@ 230.0 020 50.0 27.2 @@.@ 00001001"));
    if (!r.ok) throw new Error(r.detail);
    expect(r.status.inputFaultV).toBeNull();
    expect(r.status.tempC).toBeNull();
    expect(r.status.nutStatus).toEqual(["OL"]);
  });
  it("test in progress and shutdown active → CAL, FSD", () => {
    const r = decodeQ1(enc("(229.8 229.8 229.8 023 50.0 27.3 31.0 00001110"));
    expect(r.ok && r.status.nutStatus).toEqual(["OL", "CAL", "FSD"]);
    expect(r.ok && r.status.bits.testInProgress && r.status.bits.shutdownActive).toBe(true);
  });
  it("simulator's healthy line-interactive unit", () => {
    const r = decodeQ1(enc("(229.8 229.8 229.8 023 50.0 27.3 31.0 00001001"));
    expect(r.ok && r.status.bits.standby && r.status.bits.beeperOn).toBe(true);
  });
});

describe("decodeQ1 bad frames: specific reasons, never a throw", () => {
  const bad = (s: string) => {
    const r = decodeQ1(enc(s));
    if (r.ok) throw new Error("expected failure");
    return r;
  };
  it("wrong field count", () => {
    expect(bad("(208.4 140.0 208.4 034 59.9 2.05 00110000")).toMatchObject({ code: "FRAME_FORMAT", reason: "field_count" });
    expect(bad("(208.4 140.0 208.4 034 59.9 2.05 35.0 00110000 1")).toMatchObject({ reason: "field_count" });
  });
  it("non-numeric field names the field", () => {
    expect(bad("(208.4 140.0 2x8.4 034 59.9 2.05 35.0 00110000")).toMatchObject({ reason: "non_numeric", field: "outputV" });
    expect(bad("(208.4 140.0 208.4 034 59.9 2.05 -- 00110000")).toMatchObject({ reason: "non_numeric", field: "tempC" });
  });
  it("bad status bits", () => {
    expect(bad("(208.4 140.0 208.4 034 59.9 2.05 35.0 0011000")).toMatchObject({ reason: "status_bits" });
    expect(bad("(208.4 140.0 208.4 034 59.9 2.05 35.0 0011002x")).toMatchObject({ reason: "status_bits" });
  });
  it("echo of Q1 = unsupported (§4.1)", () => {
    expect(bad("Q1")).toMatchObject({ reason: "echo" });
  });
  it("missing (", () => expect(bad("208.4")).toMatchObject({ reason: "start" }));
  it("random bytes never throw", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => void decodeQ1(b)), { numRuns: 2000 });
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[0-9@.x]{0,6}$/), { maxLength: 10 }), (f) => void decodeQ1(enc(`(${f.join(" ")}`))),
      { numRuns: 1000 },
    );
  });
});

describe("F / I replies and helpers", () => {
  it("F (NUT test table)", () => {
    expect(decodeF(enc("#230.0 000 024.0 50.0"))).toEqual({ ok: true, ratings: { ratedV: 230, ratedA: 0, batteryV: 24, ratedHz: 50 } });
  });
  it("I: company, model, version (39 bytes with CR)", () => {
    const f = enc("#COWORK-SIM      LI-1500    V1.02     ");
    expect(f.length).toBe(39);
    expect(decodeI(f)).toEqual({ ok: true, company: "COWORK-SIM", model: "LI-1500", version: "V1.02" });
  });
  it("command bytes and charge estimate", () => {
    expect([...Q1_COMMAND]).toEqual([0x51, 0x31, 0x0d]);
    expect(estimateChargePct(25.2, { emptyV: 21, fullV: 27.3 })).toBe(67);
    expect(estimateChargePct(30, { emptyV: 21, fullV: 27.3 })).toBe(100);
    expect(estimateChargePct(27, undefined)).toBeNull();
  });
});
