import { describe, expect, it } from "vitest";
import { encodeLcus, LcusFramer, type LcusFrame } from "./lcus-wire.ts";
import { fromHex, toHex } from "./rdm6300-wire.ts";

// Vectors from device-protocols.md §8.1 ("Bytes (verified)").
const feed = (...chunks: string[]): LcusFrame[] => {
  const f = new LcusFramer();
  return chunks.flatMap((c) => f.push(fromHex(c)));
};
const cmds = (frames: LcusFrame[]) =>
  frames.flatMap((f) => (f.kind === "command" ? [{ channel: f.channel, on: f.on }] : []));

describe("LCUS encode (§8.1)", () => {
  it.each([
    [1, true, "A0 01 01 A2"],
    [1, false, "A0 01 00 A1"],
    [2, true, "A0 02 01 A3"],
    [4, false, "A0 04 00 A4"],
  ])("channel %i on=%s → %s", (ch, on, hex) => {
    expect(toHex(encodeLcus(ch, on))).toBe(hex);
  });
});

describe("LcusFramer corpus", () => {
  it("one frame", () => {
    expect(cmds(feed("A00101A2"))).toEqual([{ channel: 1, on: true }]);
  });
  it("two frames in one chunk", () => {
    expect(cmds(feed("A00101A2A00100A1"))).toEqual([
      { channel: 1, on: true },
      { channel: 1, on: false },
    ]);
  });
  it("frame split across chunks, checksum byte alone last", () => {
    const f = new LcusFramer();
    expect(f.push(fromHex("A0"))).toEqual([]);
    expect(f.push(fromHex("0201"))).toEqual([]);
    expect(f.pending()).toBe(3);
    expect(cmds(f.push(fromHex("A3")))).toEqual([{ channel: 2, on: true }]);
    expect(f.pending()).toBe(0);
  });
  it("garbage before the start byte is discarded, not thrown", () => {
    const out = feed("FF0013A00400A4");
    expect(out[0]).toMatchObject({ kind: "discarded" });
    expect(toHex((out[0] as { bytes: Uint8Array }).bytes)).toBe("FF 00 13");
    expect(cmds(out)).toEqual([{ channel: 4, on: false }]);
  });
  it("bad checksum (A0 01 01 A3) is ignored like a real board, then noise, then a valid split frame", () => {
    const out = feed("A00101A3", "55", "A001", "01", "A2");
    expect(out.filter((f) => f.kind === "badChecksum")).toHaveLength(1);
    expect(cmds(out)).toEqual([{ channel: 1, on: true }]);
  });
  it("resyncs on a start byte inside a rejected frame", () => {
    expect(cmds(feed("A0A00101A2"))).toEqual([{ channel: 1, on: true }]);
  });
  it("valid checksum but op 02 / channel 0 is invalid, not a command", () => {
    const out = feed("A00102A3", "A00001A1");
    expect(out.map((f) => f.kind)).toEqual(["invalid", "invalid"]);
  });
  it("reset drops a half frame", () => {
    const f = new LcusFramer();
    f.push(fromHex("A001"));
    f.reset();
    expect(cmds(f.push(fromHex("01A2")))).toEqual([]);
  });
});
