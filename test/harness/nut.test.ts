import { lstat, readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pidAlive } from "./alive.ts";
import { startNut, type NutInstance } from "./nut.ts";
import { waitFor } from "./wait.ts";

// Files from device-protocols.md §5.6 (TIMERs shortened from 5 s to 1 s).
const SEAT_UPS_DEV = `ups.mfr: Simulated
ups.model: CW-1500
device.type: ups
ups.status: OL CHRG
ups.load: 23
battery.charge: 97
battery.runtime: 1860
battery.voltage: 27.2
input.voltage: 228.5
output.voltage: 229.0
`;
const OUTAGE_SEQ = `ups.status: OL
battery.charge: 100
input.voltage: 230.0
TIMER 1
ups.status: OB DISCHRG
battery.charge: 80
input.voltage: 0.0
TIMER 1
ups.status: OB DISCHRG LB
battery.charge: 15
TIMER 1
`;

const running: NutInstance[] = [];
afterEach(async () => {
  for (const n of running.splice(0)) await n.stop();
});

describe("startNut (real upsd + dummy-ups)", () => {
  it("serves the .dev file, sees writeDev changes within a deadline, replays .seq, and stops everything", async () => {
    const nut = await startNut({
      upses: { "seat-ups": { file: "seat-ups.dev", content: SEAT_UPS_DEV }, outage: { file: "outage.seq", content: OUTAGE_SEQ } },
    });
    running.push(nut);
    expect(nut.port).not.toBe(3493);
    expect(nut.upsNames).toEqual(["seat-ups", "outage"]);

    // startNut waits past the initial WAIT status.
    expect(await nut.upsc("seat-ups", "ups.status")).toBe("OL CHRG");
    const all = await nut.upsc("seat-ups");
    expect(all).toMatchObject({ "ups.mfr": "Simulated", "ups.model": "CW-1500", "battery.charge": "97", "battery.runtime": "1860" });

    await nut.writeDev("seat-ups", { "ups.status": "OB DISCHRG", "input.voltage": "0.0" });
    await waitFor(async () => (await nut.upsc("seat-ups", "ups.status")) === "OB DISCHRG", {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: "seat-ups ups.status OB DISCHRG after writeDev",
    });
    expect(await nut.upsc("seat-ups", "battery.charge")).toBe("97"); // merged, not replaced

    // A second write in the same second must still be seen (mtime is whole seconds).
    await nut.writeDev("seat-ups", { "battery.charge": "41" });
    await waitFor(async () => (await nut.upsc("seat-ups", "battery.charge")) === "41", {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: "battery.charge 41 after a second writeDev",
    });

    // dummy-loop walks the outage sequence.
    const seen = new Set<string>();
    await waitFor(
      async () => {
        seen.add(await nut.upsc("outage", "ups.status"));
        return seen.has("OL") && seen.has("OB DISCHRG") && seen.has("OB DISCHRG LB");
      },
      { timeoutMs: 20_000, intervalMs: 100, what: "OL, OB DISCHRG and OB DISCHRG LB from outage.seq" },
    );

    await expect(nut.writeDev("outage", { "ups.status": "OL" })).rejects.toThrow(/only \.dev/);

    // Killing a driver = UPS USB cable pulled: upsd reports DRIVER-NOT-CONNECTED (§5.3).
    await nut.drivers["outage"]!.kill9();
    await waitFor(
      () =>
        nut.upsc("outage", "ups.status").then(
          () => false,
          (e: Error) => /Driver not connected/i.test(e.message),
        ),
      { timeoutMs: 15_000, intervalMs: 200, what: "upsc error 'Driver not connected'" },
    );

    const pids = [nut.upsd.pid, ...Object.values(nut.drivers).map((d) => d.pid)];
    const { dir } = nut;
    await nut.stop();
    for (const pid of pids) expect(pidAlive(pid)).toBe(false);
    expect(await lstat(dir).then(() => true, () => false)).toBe(false);
  });

  it("replace: true rewrites the whole file, but dummy-ups keeps variables that left the file (observed)", async () => {
    const nut = await startNut({ upses: { u1: { file: "u1.dev", content: SEAT_UPS_DEV } } });
    running.push(nut);
    await nut.writeDev("u1", { "ups.mfr": "Other", "ups.model": "M", "ups.status": "OL" }, { replace: true });
    expect(await readFile(path.join(nut.dir, "etc", "u1.dev"), "utf8")).toBe("ups.mfr: Other\nups.model: M\nups.status: OL\n");
    await waitFor(async () => (await nut.upsc("u1", "ups.status")) === "OL", { timeoutMs: 15_000, intervalMs: 200, what: "status OL" });
    expect(await nut.upsc("u1", "ups.mfr")).toBe("Other");
    // NUT 2.8.0 dummy-once only overwrites: a variable removed from the file keeps its old value.
    expect(await nut.upsc("u1", "battery.runtime")).toBe("1860");
  });
});
