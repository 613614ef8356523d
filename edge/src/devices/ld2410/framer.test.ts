import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Ld2410Framer } from "./framer.ts";
import { decodeLd2410 } from "./decode.ts";
import { fromHex, toHex, type Frame } from "../frame.ts";

// Vector corpus, device-protocols.md §6.4 (verified vectors).
const STILL = "F4 F3 F2 F1 0D 00 02 AA 02 00 00 00 78 00 3C 78 00 55 00 F8 F7 F6 F5"; // stationary 120 cm / 60
const BOTH = "F4 F3 F2 F1 0D 00 02 AA 03 36 01 37 5F 00 28 5F 00 55 00 F8 F7 F6 F5"; // moving 310/55, still 95/40
const ENG =
  "F4 F3 F2 F1 23 00 01 AA 01 96 00 46 00 00 00 96 00 08 08 0C 46 28 08 05 03 02 01 00 00 00 0F 09 06 04 02 01 00 6E 01 55 00 F8 F7 F6 F5";
const ACK = "FD FC FB FA 08 00 FF 01 00 00 01 00 40 00 04 03 02 01"; // enable-config ACK: ok, protocol 1, buffer 64
const BAD_CHECK = "F4 F3 F2 F1 0D 00 02 AA 02 00 00 00 78 00 3C 78 00 55 01 F8 F7 F6 F5";
const BAD_FOOT = "F4 F3 F2 F1 0D 00 02 AA 02 00 00 00 78 00 3C 78 00 55 00 F8 F7 F6 F4";
const NONE = "F4 F3 F2 F1 0D 00 02 AA 00 00 00 00 00 00 00 00 00 55 00 F8 F7 F6 F5";

const hx = (s: string) => toHex(fromHex(s));
const feed = (chunks: string[]) => {
  const f = new Ld2410Framer();
  return chunks.flatMap((c) => f.push(fromHex(c)));
};
const kinds = (out: Frame[]) =>
  out.filter((f) => f.kind === "frame").map((f) => {
    const r = decodeLd2410(f.bytes);
    if (!r.ok) return r.code;
    return r.kind === "ack" ? `ack:${r.command.toString(16)}` : `${r.report.state}:${r.report.detectCm}`;
  });

describe("LD2410 decoder (§6.4)", () => {
  it("basic, stationary person at 1.20 m", () => {
    expect(decodeLd2410(fromHex(STILL))).toEqual({
      ok: true,
      kind: "report",
      report: { mode: "basic", state: 2, present: true, movingCm: 0, movingEnergy: 0, stillCm: 120, stillEnergy: 60, detectCm: 120 },
    });
  });
  it("basic, both targets: moving 310 cm / 55, still 95 cm / 40", () => {
    expect(decodeLd2410(fromHex(BOTH))).toMatchObject({ ok: true, report: { state: 3, movingCm: 310, movingEnergy: 55, stillCm: 95, stillEnergy: 40, detectCm: 95 } });
  });
  it("engineering, moving at 1.50 m: gates, light 110, OUT 1", () => {
    expect(decodeLd2410(fromHex(ENG))).toMatchObject({
      ok: true,
      report: {
        mode: "engineering",
        state: 1,
        movingCm: 150,
        engineering: { movingGates: [12, 70, 40, 8, 5, 3, 2, 1, 0], stillGates: [0, 0, 15, 9, 6, 4, 2, 1, 0], light: 110, out: 1 },
      },
    });
  });
  it("no target → not present", () => {
    expect(decodeLd2410(fromHex(NONE))).toMatchObject({ ok: true, report: { state: 0, present: false } });
  });
  it("enable-configuration ACK", () => {
    const r = decodeLd2410(fromHex(ACK));
    expect(r).toMatchObject({ ok: true, kind: "ack", command: 0xff, success: true });
    if (r.ok && r.kind === "ack") expect(toHex(r.data)).toBe("01004000");
  });
  it("check byte != 00 → FRAME_CHECKSUM", () => {
    expect(decodeLd2410(fromHex(BAD_CHECK))).toMatchObject({ ok: false, code: "FRAME_CHECKSUM" });
  });
  it("never throws on arbitrary bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => void decodeLd2410(b)));
  });
});

describe("Ld2410Framer corpus", () => {
  it("one frame", () => {
    expect(feed([STILL]).map((f) => [f.kind, toHex(f.bytes)])).toEqual([["frame", hx(STILL)]]);
  });
  it("two frames in one chunk, and an ACK interleaved", () => {
    expect(kinds(feed([STILL + ACK + BOTH]))).toEqual(["2:120", "ack:ff", "3:95"]);
  });
  it("a frame split across chunks; footer's last byte alone", () => {
    expect(kinds(feed(["F4 F3", "F2 F1 0D 00 02 AA 02 00 00 00 78 00 3C 78 00 55 00 F8 F7 F6", "F5"]))).toEqual(["2:120"]);
  });
  it("garbage before the header is noise; a header prefix at a chunk end is kept", () => {
    const out = feed(["00 11 F4", "F3 F2 F1 0D 00 02 AA 02 00 00 00 78 00 3C 78 00 55 00 F8 F7 F6 F5"]);
    expect(out[0]).toMatchObject({ kind: "discarded", reason: "noise" });
    expect(toHex(out[0]!.bytes)).toBe("0011");
    expect(kinds(out)).toEqual(["2:120"]);
  });
  it("bad footer: drop one byte, rescan, find the next frame; bad check byte reaches the decoder", () => {
    const out = feed([BAD_FOOT + "AA BB", BAD_CHECK.slice(0, 20), BAD_CHECK.slice(20) + STILL]);
    expect(kinds(out)).toEqual(["FRAME_CHECKSUM", "2:120"]);
    expect(out.some((f) => f.kind === "discarded" && f.reason === "format")).toBe(true);
  });
  it("implausible length (> 64) is rejected without waiting for 65 KB", () => {
    const f = new Ld2410Framer();
    const out = f.push(fromHex("F4 F3 F2 F1 FF FF 02 AA" + STILL));
    expect(out[0]).toMatchObject({ kind: "discarded", reason: "too_long" });
    expect(kinds(out)).toEqual(["2:120"]);
    expect(f.buffered).toBe(0);
  });
  it("a frame starting inside a broken one is found", () => {
    expect(kinds(feed(["F4 F3 F2 F1 0D 00 02" + STILL]))).toEqual(["2:120"]);
  });
  it("property: splitting the stream anywhere yields the same frames", () => {
    const stream = fromHex(STILL + "01 02 F4 F3" + BOTH + BAD_FOOT + ACK + ENG + BAD_CHECK);
    // Frames must be identical; noise may be reported in different runs, but never a different byte count.
    const summary = (xs: Frame[]) => ({ frames: xs.filter((x) => x.kind === "frame").map((x) => toHex(x.bytes)), dropped: xs.filter((x) => x.kind !== "frame").length > 0 });
    const whole = summary(new Ld2410Framer().push(stream));
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 15 }), (cuts) => {
        const f = new Ld2410Framer();
        const pts = [0, ...[...cuts].sort((a, b) => a - b), stream.length];
        const got = pts.slice(1).flatMap((p, i) => f.push(stream.subarray(pts[i], p)));
        expect(summary(got)).toEqual(whole);
      }),
    );
  });
  it("property: random bytes never throw and the buffer stays bounded", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        const f = new Ld2410Framer();
        for (const c of chunks) f.push(c);
        expect(f.buffered).toBeLessThanOrEqual(74);
      }),
    );
  });
});
