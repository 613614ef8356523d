import { describe, expect, it } from "vitest";
import { cardIdBytes, encodeRdm6300, encodeRdm6300Corrupt, fromHex, rdm6300Checksum, toHex } from "./rdm6300-wire.ts";

// Byte vectors from device-protocols.md §1.5 (verified by verify-all.mjs / crosscheck.py).
describe("encodeRdm6300 (§1.5 vectors)", () => {
  it("62E3086CED → 02 36 32 45 33 30 38 36 43 45 44 30 38 03", () => {
    expect(toHex(encodeRdm6300("62E3086CED"))).toBe("02 36 32 45 33 30 38 36 43 45 44 30 38 03");
    expect(rdm6300Checksum(cardIdBytes("62E3086CED"))).toBe(0x08);
  });

  it("01026F6C3A → 02 30 31 30 32 36 46 36 43 33 41 33 41 03", () => {
    expect(toHex(encodeRdm6300("01026F6C3A"))).toBe("02 30 31 30 32 36 46 36 43 33 41 33 41 03");
    expect(rdm6300Checksum(cardIdBytes("01026F6C3A"))).toBe(0x3a);
  });

  it("lower-case input is sent upper case, as the module does (§1.2)", () => {
    expect(encodeRdm6300("62e3086ced")).toEqual(encodeRdm6300("62E3086CED"));
  });

  it("corrupt checksum = the §1.5 reject vector (checksum chars 09)", () => {
    expect(toHex(encodeRdm6300Corrupt("62E3086CED"))).toBe("02 36 32 45 33 30 38 36 43 45 44 30 39 03");
  });

  it("rejects ids that are not 10 hex digits", () => {
    expect(() => encodeRdm6300("62E3086C")).toThrow(TypeError);
    expect(() => encodeRdm6300("62E3086CEG")).toThrow(TypeError);
  });

  it("hex helpers round-trip", () => {
    expect(toHex(fromHex("02 36 0d"))).toBe("02 36 0D");
    expect(() => fromHex("0")).toThrow(TypeError);
  });
});
