import { EventEmitter } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "./cli.ts";
import { readGroundTruth } from "./ground-truth.ts";
import { parseScenarioArgs, planDayScenario } from "./scenario-cli.ts";
import { defaultLayout } from "./layout.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("scenario CLI options", () => {
  it("flat by default; day parses schedule, WAN target and chances; bad values throw", () => {
    expect(parseScenarioArgs({})).toBeNull();
    const a = parseScenarioArgs({ scenario: "day", "load-shedding": "09:00/1.5,20:00/2", "wan-target": "127.0.0.1:18830", "no-generator": true, full: true });
    expect(a).toMatchObject({ loadShedding: [{ at: "09:00", hours: 1.5 }, { at: "20:00", hours: 2 }], wanTarget: { host: "127.0.0.1", port: 18830 }, generator: false, full: true });
    expect(parseScenarioArgs({ scenario: "day", "load-shedding": "none" })?.loadShedding).toEqual([]);
    expect(() => parseScenarioArgs({ scenario: "night" })).toThrow(/flat or day/);
    expect(() => parseScenarioArgs({ scenario: "day", "load-shedding": "10am" })).toThrow(/HH:MM/);
    expect(() => parseScenarioArgs({ scenario: "day", tailgate: "2" })).toThrow(/--tailgate/);
  });

  it("the day plan is a pure function of the seed and mixes people, devices, power and internet", () => {
    const center = { config: { centerId: "c", dir: "", seed: 1, ...defaultLayout("c", 1, { seats: 6, now: Date.UTC(2026, 0, 5) }) } };
    const a = parseScenarioArgs({ scenario: "day" })!;
    const o = { seed: 8, durationMs: 86_400_000, startAt: Date.UTC(2026, 0, 5) };
    const p = planDayScenario(center as never, a, o);
    expect(planDayScenario(center as never, a, o)).toEqual(p);
    expect(new Set(p.map((x) => x.kind))).toEqual(new Set(["tap", "seat", "person", "power", "internet"]));
    for (let i = 1; i < p.length; i++) expect(p[i]!.at).toBeGreaterThanOrEqual(p[i - 1]!.at);
  });
});

describe("hazri sim --scenario day", () => {
  it("plays a day at 86400× with a WAN proxy and writes person/power/internet ground truth", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hazri-scncli-"));
    dirs.push(dir);
    const lines: string[] = [];
    const code = await main(
      ["--center", "pwr-01", "--dir", dir, "--seed", "5", "--scenario", "day", "--speed", "86400", "--duration", "86400", "--wan-target", "127.0.0.1:1", "--drops-per-day", "4"],
      { out: (s) => lines.push(s), err: (s) => lines.push(s), signals: new EventEmitter() },
    );
    expect(code, lines.join("\n")).toBe(0);
    expect(lines.some((l) => /^wan proxy: mqtt:\/\/127\.0\.0\.1:\d+ → 127\.0\.0\.1:1/.test(l))).toBe(true);
    const desc = JSON.parse(readFileSync(path.join(dir, "sim-center.json"), "utf8")) as { wanProxyUrl?: string };
    expect(desc.wanProxyUrl).toMatch(/^mqtt:\/\//);
    const last = lines[lines.length - 1] ?? "";
    const s = JSON.parse(last.replace(/^summary-json /, "")) as { executed: number; planned: number; skippedBusy: number; errors: string[] };
    expect(s.executed + s.skippedBusy).toBe(s.planned);
    expect(s.errors).toEqual([]);
    const kinds = new Set(readGroundTruth(path.join(dir, "ground-truth.jsonl")).map((r) => r.kind));
    for (const k of ["person", "power", "internet", "tap", "seat"]) expect(kinds.has(k as never), k).toBe(true);
  }, 60_000); // ~3 s alone; real ptys and socat processes, so slower on a loaded box
});
