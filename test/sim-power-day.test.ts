/**
 * A compressed power day through the real `hazri sim` process: at --speed 120
 * a load-shedding block without a generator runs the UPS battery down in sim
 * time. The edge's power service polls the simulated Voltronic inverter on its
 * pty (QPIGS field 11, battery capacity) while the scenario plays, and the
 * charge it reads must follow the plan's discharge line between the cut and
 * the low-battery transition — passing through intermediate values, not flat
 * until the scenario re-aligns it at low battery (the bug: the CLI never gave
 * the battery model the speed, so it drained in real time) — and rise again
 * after the mains returns. Times are measured from the ground truth's own `t`
 * of each transition (when the sim really switched), and a reading may be as
 * old as the edge's stale limit, so the check does not depend on the box's speed.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { silentLogger } from "../protocol/clock.ts";
import { startPower, type PowerService } from "../edge/src/power/service.ts";
import { PowerDeviceConfig } from "../edge/src/power/config.ts";
import { readGroundTruth, type GroundTruthRecord } from "../firmware-sim/src/ground-truth.ts";
import { makeTempDir, removeDir, spawnManaged, waitFor, type ManagedProcess } from "./harness/index.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const SPEED = 120;
const STALE_MS = 3000;
let dir = "";
let sim: ManagedProcess | null = null;
let svc: PowerService | null = null;
afterAll(async () => {
  await svc?.close();
  await sim?.stop("SIGTERM", 10_000);
  if (dir) await removeDir(dir);
});

describe("hazri sim --scenario day --speed 120: the battery follows the plan in sim time", () => {
  it("charge read by the edge from the QPIGS inverter falls along the plan's line during load shedding and rises after mains return", async () => {
    dir = await makeTempDir("sim-power-day");
    const d = path.join(dir, "sim");
    // Start 06:00, shedding 06:02–07:02, no generator: battery from 06:02, LB at 06:38, empty 06:47, mains 07:02.
    sim = await spawnManaged(
      process.execPath,
      ["bin/hazri.mjs", "sim", "--center", "pwr-01", "--dir", d, "--seed", "2", "--scenario", "day", "--speed", String(SPEED), "--duration", String(75 * 60), "--no-generator", "--load-shedding", "06:02/1", "--cuts-per-day", "0", "--drops-per-day", "0", "--seats", "0", "--no-listener-check"],
      { name: "hazri sim", cwd: ROOT, logFile: path.join(dir, "sim.log") },
    );
    const ready = path.join(d, "sim-center.json");
    await waitFor(() => { try { return JSON.parse(readFileSync(ready, "utf8")) as unknown; } catch { return false; } }, { timeoutMs: 30_000, what: "sim-center.json" });
    const desc = JSON.parse(readFileSync(ready, "utf8")) as { edge: { power: Array<{ id: string; type: string; path: string }> } };
    const inv = desc.edge.power.find((p) => p.type === "qpigs")!;
    const samples: Array<{ at: number; pct: number }> = [];
    svc = await startPower({
      devices: [PowerDeviceConfig.parse({ id: "inv", type: "qpigs", path: inv.path, pollMs: 200, staleAfterMs: STALE_MS, sampleMs: 250 })],
      record: (e) => {
        if (e.type === "power" && e.ups?.chargePct != null) samples.push({ at: Date.now(), pct: e.ups.chargePct });
      },
      logger: silentLogger,
    });
    const gtFile = path.join(d, "ground-truth.jsonl");
    await waitFor(() => readGroundTruth(gtFile).some((r) => r.kind === "stop"), { timeoutMs: 120_000, intervalMs: 500, what: "the simulated day to end" });
    const gt = readGroundTruth(gtFile);
    const power = gt.filter((r): r is Extract<GroundTruthRecord, { kind: "power" }> => r.kind === "power");
    expect(power.map((p) => [p.planMs! / 60_000, p.source, p.chargePct])).toEqual([
      [2, "battery", 100],
      [38, "low_battery", 20],
      [47, "down", 0],
      [62, "mains", 0],
    ]);
    const [cut, lb, , back] = power as [typeof power[0], typeof power[0], typeof power[0], typeof power[0]];
    // %/wall-ms from the plan's UPS (45 min full → empty, 240 min empty → full), at SPEED.
    const drain = (100 / 45) * (SPEED / 60_000);
    const charge = (100 / 240) * (SPEED / 60_000);
    const falling = samples.filter((s) => s.at > cut.t + 500 && s.at < lb.t);
    expect(falling.length).toBeGreaterThan(20);
    for (const s of falling) {
      const line = (w: number) => 100 - (w - cut.t) * drain;
      // Not ahead of the plan; at most one stale limit (+ a poll) behind; ±1.5 for QPIGS' whole percent.
      expect(s.pct, `at +${s.at - cut.t} ms after the cut`).toBeLessThanOrEqual(line(s.at - STALE_MS - 200) + 1.5);
      expect(s.pct, `at +${s.at - cut.t} ms after the cut`).toBeGreaterThanOrEqual(line(s.at) - 1.5);
    }
    // The curve, not a plateau: many distinct values on the way down, in order.
    const mid = [...new Set(falling.map((s) => s.pct))].filter((p) => p > 25 && p < 95);
    expect(mid.length).toBeGreaterThan(10);
    for (let i = 1; i < falling.length; i++) expect(falling[i]!.pct).toBeLessThanOrEqual(falling[i - 1]!.pct);
    const rising = samples.filter((s) => s.at > back.t + STALE_MS + 500);
    expect(rising.length).toBeGreaterThan(5);
    for (const s of rising) {
      const line = (w: number) => (w - back.t) * charge;
      expect(s.pct).toBeLessThanOrEqual(line(s.at) + 1.5);
      expect(s.pct).toBeGreaterThanOrEqual(line(s.at - STALE_MS - 200) - 1.5);
    }
    expect(new Set(rising.map((s) => s.pct)).size).toBeGreaterThan(1);
  }, 180_000);
});
