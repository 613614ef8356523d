import { describe, expect, it } from "vitest";
import { lcusCommand, parseLcusCommand } from "./lcus.ts";
import { fromHex, toHex } from "../frame.ts";

describe("LCUS relay commands (§8.1 verified vectors)", () => {
  it.each([
    [1, true, "a00101a2"],
    [1, false, "a00100a1"],
    [2, true, "a00201a3"],
    [4, false, "a00400a4"],
  ])("channel %i on=%s → %s", (ch, on, hex) => {
    expect(toHex(lcusCommand(ch, on))).toBe(hex);
    expect(parseLcusCommand(fromHex(hex))).toEqual({ channel: ch, on });
  });
  it("rejects a bad checksum and bad channels", () => {
    expect(parseLcusCommand(fromHex("A0 01 01 A3"))).toBeNull();
    expect(() => lcusCommand(0, true)).toThrow(RangeError);
  });
});
