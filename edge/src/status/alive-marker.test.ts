import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import { BootEvent } from "../../../protocol/events.ts";
import { RECORD_BYTES, bootDraft, decodeMark, encodeMark, readAliveMarker, startAliveMarker } from "./alive-marker.ts";

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "hazri-alive-"));
  file = path.join(dir, "data", "alive.mark");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const base = { v: 1, centerId: "lhr-01", bootId: "boot-new", seq: 1, ts: 1, mono: 0, synced: false } as const;

describe("alive marker record", () => {
  it("round-trips and has a fixed size", () => {
    const m = { bootId: "abcdef0123", ts: 1_770_000_000_123, synced: true, stopped: false };
    const b = encodeMark(m);
    expect(b.length).toBe(RECORD_BYTES);
    expect(decodeMark(b)).toEqual(m);
  });

  it("a flipped byte, a truncated record or a wrong sum reads as corrupt", () => {
    const b = encodeMark({ bootId: "abcdef0123", ts: 1_770_000_000_123, synced: true, stopped: false });
    const text = b.toString("utf8");
    const flipped = Buffer.from(text.replace("1770000000123", "1770000000124"));
    expect(decodeMark(flipped)).toBeNull();
    expect(decodeMark(b.subarray(0, 40))).toBeNull();
    expect(decodeMark(Buffer.alloc(RECORD_BYTES))).toBeNull(); // zeroed page after a power cut
  });

  it("decodeMark never throws on arbitrary bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => void decodeMark(bytes)));
  });

  it("readAliveMarker: missing, corrupt, directory-instead-of-file → unknown, never throws", () => {
    expect(readAliveMarker(file)).toEqual({ ok: false, reason: "missing" });
    writeFileSync(path.join(dir, "garbage"), "\u0000\u0001not json");
    expect(readAliveMarker(path.join(dir, "garbage"))).toEqual({ ok: false, reason: "corrupt" });
    expect(readAliveMarker(dir).ok).toBe(false);
  });

  it("boot event from each kind of previous run parses with the protocol schema", () => {
    const cases = [
      [{ ok: false, reason: "missing" }, { prevBootId: null, prevAliveTs: null, prevAliveSynced: false, prevEnd: "unknown" }],
      [{ ok: true, mark: { bootId: "boot-old", ts: 5000, synced: true, stopped: true } }, { prevBootId: "boot-old", prevAliveTs: 5000, prevAliveSynced: true, prevEnd: "stop" }],
      [{ ok: true, mark: { bootId: "boot-old", ts: 5000, synced: false, stopped: false } }, { prevBootId: "boot-old", prevAliveTs: 5000, prevAliveSynced: false, prevEnd: "crash" }],
    ] as const;
    for (const [prev, want] of cases) {
      const d = bootDraft(prev);
      expect(d).toEqual({ type: "boot", ...want });
      expect(BootEvent.parse({ ...base, ...d })).toMatchObject(want);
    }
  });
});

describe("startAliveMarker", () => {
  it("marks at start, overwrites in place (size constant), and a clean stop writes stopped", async () => {
    let now = 1_770_000_000_000;
    const m = await startAliveMarker({ file, bootId: "boot-aaa", intervalS: 3600, now: () => now, synced: () => false, logger: silentLogger });
    expect(readAliveMarker(file)).toEqual({ ok: true, mark: { bootId: "boot-aaa", ts: now, synced: false, stopped: false } });
    now += 1000;
    await m.mark();
    expect(statSync(file).size).toBe(RECORD_BYTES);
    expect(readAliveMarker(file)).toEqual({ ok: true, mark: { bootId: "boot-aaa", ts: now, synced: false, stopped: false } });
    await m.stop();
    expect(readAliveMarker(file)).toEqual({ ok: true, mark: { bootId: "boot-aaa", ts: now, synced: false, stopped: true } });
    await m.mark(); // after stop: no more writes
    expect(m.counters.writes).toBe(3);
  });

  it("a longer stale file is overwritten at offset 0 and still reads (trailing bytes ignored by size)", async () => {
    const m1 = await startAliveMarker({ file, bootId: "boot-bbb", intervalS: 3600, now: () => 10, synced: () => true, logger: silentLogger });
    await m1.stop();
    // the next run reads it, then takes the file over
    expect(bootDraft(readAliveMarker(file))).toMatchObject({ prevBootId: "boot-bbb", prevEnd: "stop", prevAliveSynced: true });
    await startAliveMarker({ file, bootId: "boot-ccc", intervalS: 3600, now: () => 20, synced: () => true, logger: silentLogger });
    // killed (no stop): the mark says not stopped
    expect(bootDraft(readAliveMarker(file))).toMatchObject({ prevBootId: "boot-ccc", prevAliveTs: 20, prevEnd: "crash" });
    expect(readFileSync(file).length).toBe(RECORD_BYTES);
  });

  it("marks periodically on its own", async () => {
    let n = 0;
    const m = await startAliveMarker({ file, bootId: "boot-ddd", intervalS: 0.1, now: () => ++n, synced: () => false, logger: silentLogger });
    const deadline = Date.now() + 10_000;
    while (m.counters.writes < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(m.counters.writes).toBeGreaterThanOrEqual(4);
    await m.stop();
  });

  it("an unopenable location is logged, never thrown", async () => {
    writeFileSync(path.join(dir, "data"), "a file where the data dir should be");
    const errors: unknown[] = [];
    const logger = { ...silentLogger, error: (o: unknown) => void errors.push(o), child: () => logger };
    const m = await startAliveMarker({ file, bootId: "boot-eee", intervalS: 3600, now: () => 1, synced: () => false, logger });
    await m.stop();
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(m.counters.writes).toBe(0);
  });
});
