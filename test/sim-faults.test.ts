/**
 * `--faults` and `--centers` on real components. Library: a planned reader
 * fault and a planned UPS fault are scenario steps with ground truth, and the
 * bytes on the host side of the ptys — decoded by the EDGE's own framers and
 * decoders — show them (no frame for a tap in the silent window, FRAME_FORMAT
 * from the UPS in the corrupt window, clean outside). CLI: the real
 * `hazri sim --centers 2 --faults ...` process, one sub-dir and pty set per
 * center, fault truth in each, skipped taps in the human summary.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { SerialPort } from "serialport";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimCenter, type SimCenter, type SimCenterPower } from "../firmware-sim/src/center.ts";
import { faultSteps, parseFaults } from "../firmware-sim/src/faults/device-faults.ts";
import { readGroundTruth, type GroundTruthRecord } from "../firmware-sim/src/ground-truth.ts";
import { defaultLayout } from "../firmware-sim/src/layout.ts";
import { runScenario, type ScenarioStep } from "../firmware-sim/src/scenario-run.ts";
import { Rdm6300Framer } from "../edge/src/devices/rdm6300/framer.ts";
import { decodeRdm6300 } from "../edge/src/devices/rdm6300/decode.ts";
import { createMegatecFramer } from "../edge/src/devices/megatec/framer.ts";
import { decodeQ1, Q1_COMMAND } from "../edge/src/devices/megatec/decode.ts";
import { makeTempDir, removeDir, waitFor } from "./harness/index.ts";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "..");
let dir: string;
beforeAll(async () => {
  dir = await makeTempDir("sim-faults");
});
afterAll(async () => {
  if (dir) await removeDir(dir);
});

function openHost(p: string): Promise<SerialPort> {
  return new Promise((res, rej) => {
    const port: SerialPort = new SerialPort({ path: p, baudRate: 9600 }, (e) => (e ? rej(e) : res(port)));
  });
}

describe("faults as scenario steps, seen through the edge's decoders", () => {
  let center: (SimCenter & SimCenterPower) | null = null;
  const hosts: SerialPort[] = [];
  afterAll(async () => {
    for (const h of hosts) await new Promise<void>((r) => h.close(() => r()));
    await center?.stop();
  });

  it("reader silent 1.5–3 s and UPS corrupt 4–6 s: truth records, no frame / FRAME_FORMAT inside, clean outside", async () => {
    const layout = defaultLayout("flt-01", 9, { seats: 1, members: 10 });
    center = await createSimCenter({ centerId: "flt-01", dir: path.join(dir, "lib"), seed: 9, ...layout });
    const card = (i: number) => layout.members[i]!.cards[0]!.toUpperCase();
    // Reader host side: the edge's RDM6300 framer + decoder.
    const reader = await openHost(center.devices.readers["main-in"]!.hostPath);
    hosts.push(reader);
    const framer = new Rdm6300Framer();
    const seen: string[] = [];
    reader.on("data", (b: Buffer) => {
      for (const f of framer.push(b)) {
        if (f.kind !== "frame") continue;
        const d = decodeRdm6300(f.bytes);
        if (d.ok) seen.push(d.cardId);
      }
    });
    // UPS host side: poll Q1 with the edge's framer + decoder.
    const upsDev = center.power.devices.ups;
    if (!upsDev || upsDev.type === "nut") throw new Error("default layout has a serial UPS");
    const ups = await openHost(upsDev.hostPath);
    hosts.push(ups);
    const q1 = createMegatecFramer();
    const replies: Array<{ at: number; ok: boolean; code?: string }> = [];
    ups.on("data", (b: Buffer) => {
      for (const f of q1.push(b)) {
        if (f.kind !== "frame") continue;
        const r = decodeQ1(f.bytes);
        replies.push({ at: performance.now(), ok: r.ok, ...(r.ok ? {} : { code: r.code }) });
      }
    });
    const t0 = performance.now();
    const poll = setInterval(() => ups.write(Buffer.from(Q1_COMMAND)), 150);
    try {
      const tap = (at: number, cardId: string): ScenarioStep => ({ at, kind: "tap", reader: "main-in", cardId, category: "valid" });
      const plan: ScenarioStep[] = [tap(0, card(0)), ...faultSteps(parseFaults("reader:main-in:silent@1.5-3,ups:ups:corrupt@4-6")), tap(2000, card(1)), tap(3500, card(2))].sort((a, b) => a.at - b.at);
      const s = await runScenario(plan, { center, speed: 1 });
      expect(s.errors).toEqual([]);
      await waitFor(() => performance.now() - t0 > 7000 && replies.some((r) => r.at - t0 > 6600), { timeoutMs: 20_000, what: "UPS replies after the corrupt window" });
    } finally {
      clearInterval(poll);
    }
    const gt = readGroundTruth(center.groundTruth.file);
    const faults = gt.filter((r): r is Extract<GroundTruthRecord, { kind: "fault" }> => r.kind === "fault");
    expect(faults.map((f) => [f.planMs, f.deviceKind, f.device, f.fault, f.active])).toEqual([
      [1500, "reader", "main-in", "silent", true],
      [3000, "reader", "main-in", "silent", false],
      [4000, "power", "ups", "corrupt", true],
      [6000, "power", "ups", "corrupt", false],
    ]);
    const taps = gt.flatMap((r) => (r.kind === "tap" ? [[r.cardId, r.delivered, r.undelivered ?? null]] : []));
    expect(taps).toEqual([
      [card(0), true, null],
      [card(1), false, "silent"],
      [card(2), true, null],
    ]);
    await waitFor(() => seen.includes(card(2)), { timeoutMs: 10_000, what: "frames of the tap after the fault" });
    expect([...new Set(seen)]).toEqual([card(0), card(2)]); // the silent-window tap sent nothing
    // Q1 replies (wall ms since start, speed 1): FRAME_FORMAT only in the corrupt window (±0.5 s for the in-flight poll).
    const bad = replies.filter((r) => !r.ok);
    expect(bad.length).toBeGreaterThan(3);
    expect(bad.every((r) => r.code === "FRAME_FORMAT" && r.at - t0 > 3900 && r.at - t0 < 6600)).toBe(true);
    expect(replies.some((r) => r.ok && r.at - t0 < 3900)).toBe(true);
    expect(replies.some((r) => r.ok && r.at - t0 > 6600)).toBe(true);
  }, 60_000);
});

describe("hazri sim --centers 2 --faults (real process)", () => {
  it("two centers, one sub-dir and pty set each; planned faults in each ground truth; skipped taps in the summary", async () => {
    const d = path.join(dir, "cli");
    // Start 06:00; reader silent 09:00–11:00 (the morning peak), UPS late 10:00–10:30, seat s01 offline.
    const faults = "reader:main-in:silent@10800-18000,ups:ups:late=800@14400-16200,seat:s01:offline@20000-30000";
    const args = ["bin/hazri.mjs", "sim", "--center", "mc", "--centers", "2", "--dir", d, "--seed", "3", "--scenario", "day", "--speed", "4320", "--duration", "43200", "--no-listener-check", "--faults", faults];
    const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 150_000 });
    const list = JSON.parse(readFileSync(path.join(d, "sim-centers.json"), "utf8")) as { centers: Array<{ id: string; seed: number; dir: string; simCenter: string }> };
    expect(list.centers.map((c) => [c.id, c.seed, c.dir])).toEqual([
      ["mc-1", 3, path.join(d, "mc-1")],
      ["mc-2", 4, path.join(d, "mc-2")],
    ]);
    const paths = list.centers.map((c) => (JSON.parse(readFileSync(c.simCenter, "utf8")) as { edge: { readers: Array<{ path: string }> } }).edge.readers[0]!.path);
    expect(paths).toEqual([path.join(d, "mc-1", "rfid-main-in"), path.join(d, "mc-2", "rfid-main-in")]);
    const last = JSON.parse(stdout.trim().split("\n").at(-1)!.replace(/^summary-json /, "")) as { centers: Record<string, { skippedBusy: number; errors: string[]; byKind: Record<string, number> }> };
    for (const c of list.centers) {
      const s = last.centers[c.id]!;
      expect(s.errors).toEqual([]);
      expect(s.byKind.fault).toBe(6);
      // The human summary, per center, shows the skipped taps.
      expect(stdout).toContain(`[${c.id}] summary: `);
      expect(stdout).toMatch(new RegExp(`\\[${c.id}\\] summary: \\d+/\\d+ steps executed, ${s.skippedBusy} taps skipped \\(reader busy\\)`));
      const gt = readGroundTruth(path.join(c.dir, "ground-truth.jsonl"));
      expect(gt.find((r) => r.kind === "start")).toMatchObject({ centerId: c.id, seed: c.seed });
      expect(gt.filter((r) => r.kind === "fault").map((r) => r.planMs)).toEqual([10_800_000, 14_400_000, 16_200_000, 18_000_000, 20_000_000, 30_000_000]);
      const inWindow = gt.filter((r) => r.kind === "tap" && r.reader === "main-in" && r.planMs! > 10_800_000 && r.planMs! < 18_000_000);
      const outside = gt.filter((r) => r.kind === "tap" && r.reader === "main-in" && (r.planMs! < 10_800_000 || r.planMs! > 18_000_000));
      expect(inWindow.length).toBeGreaterThan(0);
      expect(inWindow.every((r) => r.kind === "tap" && r.undelivered === "silent")).toBe(true);
      expect(outside.every((r) => r.kind === "tap" && r.delivered)).toBe(true);
    }
  }, 200_000);
});
