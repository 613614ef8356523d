/**
 * Issue 4 "a scenario with a fixed seed produces the same ground truth twice",
 * on real devices: socat ptys, a reader host side that something really has
 * open (so taps are delivered, not "no_listener"), seat sensors on a real
 * Mosquitto. Two runs with one seed and speed must write the same records in
 * the same order with the same plan offsets; only the wall-clock field `t`
 * may differ. Also the audit's repro through the real `hazri sim` process at
 * 86400× (where a card's 300 ms hold spans hours of sim time, so reader-busy
 * skips are many: they must come from the plan, not from the box's speed).
 * That one runs with --no-listener-check: nothing of the test can hold its
 * ptys open in time, and on a shared box a stray process (another test's edge
 * retrying a stale pty link whose /dev/pts number we got) may open one, which
 * truly changes what is delivered.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { SerialPort } from "serialport";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimCenter } from "../firmware-sim/src/center.ts";
import { readGroundTruth, type GroundTruthRecord } from "../firmware-sim/src/ground-truth.ts";
import { defaultLayout } from "../firmware-sim/src/layout.ts";
import { parseScenarioArgs, runDayScenario } from "../firmware-sim/src/scenario-cli.ts";
import { makeTempDir, removeDir, startMosquitto, type MosquittoInstance } from "./harness/index.ts";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "..");
let dir: string;
let broker: MosquittoInstance;

beforeAll(async () => {
  dir = await makeTempDir("sim-repro");
  broker = await startMosquitto({});
});
afterAll(async () => {
  await broker?.stop();
  if (dir) await removeDir(dir);
});

/** Everything but the wall clock. */
const content = (recs: readonly GroundTruthRecord[]) => recs.map(({ t: _t, ...rest }) => rest);

async function playOnce(n: number): Promise<GroundTruthRecord[]> {
  const now = Date.now();
  const layout = defaultLayout("rep-01", 42, { seats: 4, members: 30, now });
  const center = await createSimCenter({ centerId: "rep-01", dir: path.join(dir, `run-${n}`), seed: 42, ...layout });
  // The host side of each reader is really open (as the edge would have it): taps are delivered.
  const hosts = await Promise.all(
    Object.values(center.devices.readers).map(
      (r) => new Promise<SerialPort>((res, rej) => {
        const p: SerialPort = new SerialPort({ path: r.hostPath, baudRate: 9600 }, (e) => (e ? rej(e) : res(p)));
        p.on("data", () => undefined);
      }),
    ),
  );
  try {
    await center.connectSeats(broker.url);
    const args = parseScenarioArgs({ scenario: "day", "drops-per-day": "3" });
    if (!args) throw new Error("day scenario args");
    // 12 h from 06:00 at 2880×: 15 s of wall time; the morning peak queues many cards at main-in.
    const s = await runDayScenario(center, args, { seed: 42, speed: 2880, durationMs: 12 * 3_600_000, wan: null });
    expect(s.errors).toEqual([]);
    expect(s.executed + s.skippedBusy).toBe(s.planned);
  } finally {
    await center.stop();
    for (const h of hosts) await new Promise<void>((r) => h.close(() => r()));
  }
  return readGroundTruth(center.groundTruth.file);
}

describe("fixed seed → the same ground truth twice, on real ptys and a real broker", () => {
  it("day scenario at 2880×: identical records, order and plan offsets; taps delivered; skips are ground truth", async () => {
    const a = await playOnce(1);
    const b = await playOnce(2);
    expect(content(b)).toEqual(content(a));
    const taps = a.filter((r) => r.kind === "tap");
    expect(taps.length).toBeGreaterThan(10);
    expect(taps.every((r) => r.kind === "tap" && r.delivered)).toBe(true);
    expect(a.filter((r) => r.kind === "skip").length).toBeGreaterThan(0);
    expect(a.some((r) => r.kind === "seat" && r.published)).toBe(true);
    // Plan order in the file: planMs never goes back.
    const planned = a.flatMap((r) => (r.planMs !== undefined && r.kind !== "scenario" ? [r.planMs] : []));
    expect(planned.length).toBeGreaterThan(50);
    for (let i = 1; i < planned.length; i++) expect(planned[i]!).toBeGreaterThanOrEqual(planned[i - 1]!);
  }, 180_000);

  it("the audit's repro: `hazri sim --seed 42 --scenario day --speed 86400 --duration 86400` twice → same records", async () => {
    const once = async (n: number) => {
      const d = path.join(dir, `cli-${n}`);
      const args = ["bin/hazri.mjs", "sim", "--center", "aud-01", "--dir", d, "--seed", "42", "--scenario", "day", "--speed", "86400", "--duration", "86400", "--no-listener-check"];
      const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 120_000 });
      const summary = stdout.split("\n").find((l) => l.startsWith("summary-json ")) ?? "";
      return { gt: readGroundTruth(path.join(d, "ground-truth.jsonl")), stdout, summary: JSON.parse(summary.slice(13)) as { skippedBusy: number } };
    };
    const a = await once(1);
    const b = await once(2);
    expect(content(b.gt)).toEqual(content(a.gt));
    expect(b.summary.skippedBusy).toBe(a.summary.skippedBusy);
    expect(a.gt.filter((r) => r.kind === "tap").every((r) => r.kind === "tap" && r.delivered)).toBe(true);
    expect(a.summary.skippedBusy).toBeGreaterThan(0);
  }, 240_000);
});
