import { EventEmitter } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "./cli.ts";
import { readGroundTruth } from "./ground-truth.ts";

// Starts real socat ptys (milliseconds), like pty.test.ts.
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hazri-simcli-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture() {
  const lines: string[] = [];
  const errs: string[] = [];
  return { lines, errs, io: { out: (s: string) => void lines.push(s), err: (s: string) => void errs.push(s) } };
}

async function until(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("hazri sim CLI", () => {
  it("usage errors exit 2 without starting anything", async () => {
    const c = capture();
    expect(await main(["--dir", dir, "--seed", "1"], c.io)).toBe(2);
    expect(c.errs.join("\n")).toMatch(/--center/);
    expect(await main(["--center", "x", "--dir", dir, "--seed", "1", "--speed", "0"], c.io)).toBe(2);
    expect(await main(["--bogus"], c.io)).toBe(2);
    expect(existsSync(path.join(dir, "sim-center.json"))).toBe(false);
  });

  it("--help after --scenario / --scale lists their options and exits 0 (not 'argument is ambiguous')", async () => {
    for (const argv of [["--scenario", "--help"], ["--scenario", "day", "-h"], ["--faults", "--help"], ["--help"]]) {
      const c = capture();
      expect(await main(argv, c.io), argv.join(" ")).toBe(0);
      const text = c.lines.join("\n");
      expect(text).toContain("--load-shedding");
      expect(text).toContain("--faults <spec>");
      expect(c.errs).toEqual([]);
    }
    const c = capture();
    expect(await main(["--scale", "--help"], c.io)).toBe(0);
    expect(c.lines.join("\n")).toContain("--storm-at");
    expect(c.errs).toEqual([]);
  });

  it("a bad --faults spec or an unknown device id exits 2 with the reason, before anything starts", async () => {
    const c = capture();
    expect(await main(["--center", "x", "--dir", dir, "--seed", "1", "--faults", "reader:main-in:melt@1-2"], c.io)).toBe(2);
    expect(c.errs.join("\n")).toMatch(/reader has no fault "melt"/);
    expect(await main(["--center", "x", "--dir", dir, "--seed", "1", "--faults", "reader:side-in:silent@1-2"], c.io)).toBe(2);
    expect(c.errs.join("\n")).toMatch(/center x has no reader "side-in"/);
    expect(existsSync(path.join(dir, "sim-center.json"))).toBe(false);
  });

  it("runs a short seeded day, prints devices and a summary, removes its ptys", async () => {
    const c = capture();
    const rc = await main(
      ["--center", "isb-02", "--dir", dir, "--seed", "3", "--speed", "3600", "--duration", "3600", "--seats", "2", "--arrivals", "20"],
      c.io,
    );
    expect(rc).toBe(0);
    const text = c.lines.join("\n");
    expect(text).toContain(`edge opens ${path.join(dir, "rfid-main-in")}`);
    expect(text).toContain("isb-02-s01/binary_sensor/seat_occupied/state");
    expect(text).toMatch(/summary: (\d+)\/\1 actions/);
    const desc = JSON.parse(readFileSync(path.join(dir, "sim-center.json"), "utf8"));
    expect(desc.readers.map((r: { hostPath: string }) => r.hostPath)).toEqual([
      path.join(dir, "rfid-main-in"),
      path.join(dir, "rfid-main-out"),
    ]);
    expect(existsSync(path.join(dir, "rfid-main-in"))).toBe(false);
    const gt = readGroundTruth(path.join(dir, "ground-truth.jsonl"));
    expect(gt[0]?.kind).toBe("start");
    expect(gt.at(-1)?.kind).toBe("stop");
    const json = JSON.parse(c.lines.find((l) => l.startsWith("summary-json "))!.slice("summary-json ".length));
    expect(gt.filter((g) => g.kind === "tap")).toHaveLength(json.taps.total);
  });

  it("stops cleanly on SIGINT", async () => {
    const c = capture();
    const signals = new EventEmitter();
    const run = main(["--center", "khi-03", "--dir", dir, "--seed", "9", "--seats", "1"], { ...c.io, signals });
    await until(() => c.lines.some((l) => l.startsWith("ready:")), "ready line");
    expect(existsSync(path.join(dir, "relay-main"))).toBe(true);
    signals.emit("SIGINT");
    expect(await run).toBe(0);
    expect(c.lines.join("\n")).toContain("(stopped early)");
    expect(existsSync(path.join(dir, "relay-main"))).toBe(false);
    expect(signals.listenerCount("SIGINT")).toBe(0);
  });
});
