/** Every example config in edge/examples parses with the real schema (loadEdgeConfig), and the full one shows every kind of device. */
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadMembers } from "../src/access/members.ts";
import { loadEdgeConfig } from "../src/config.ts";

const dir = import.meta.dirname;
const configs = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== "members.yaml");

describe("edge/examples", () => {
  it("has the full and the minimal example (and the original)", () => {
    expect(configs).toEqual(expect.arrayContaining(["center-full.yaml", "center-minimal.yaml", "center.yaml"]));
  });

  for (const f of configs) {
    it(`${f} parses with the real schema and its member file loads`, async () => {
      const c = await loadEdgeConfig(path.join(dir, f));
      expect(c.doors.length).toBeGreaterThan(0);
      const members = await loadMembers(c.members);
      expect(members.size()).toBeGreaterThan(0);
    });
  }

  it("the full example has every device type and option the edge knows", async () => {
    const c = await loadEdgeConfig(path.join(dir, "center-full.yaml"));
    expect(new Set(c.power.map((p) => p.type))).toEqual(new Set(["megatec", "qpigs", "nut"]));
    expect(c.power.some((p) => p.role === "generator")).toBe(true);
    expect(new Set(c.readers.map((r) => (r.type === "wedge" ? `wedge/${r.input}` : r.type)))).toEqual(new Set(["rdm6300", "wiegand", "wedge/serial", "wedge/evdev"]));
    expect(c.doors.every((d) => d.contact !== undefined)).toBe(true);
    expect(new Set(c.doors.map((d) => d.failMode))).toEqual(new Set(["secure", "safe"]));
    expect(new Set(c.seats.map((s) => s.source))).toEqual(new Set(["mqtt", "ld2410"]));
    expect(c.memberCache?.publicKeyFile).toBe(path.join(dir, "server-cache.pub"));
    expect(c.access.schedules).toEqual({ day: { from: "08:00", to: "20:00" }, night: { from: "20:00", to: "08:00" } });
    expect(c.outbox).toEqual({ maxEvents: 1_000_000, seatCoalesceAt: 800_000 });
    expect(c.lan).toMatchObject({ host: "0.0.0.0", http: { host: "0.0.0.0", port: 8088 } });
    expect(c.uplink.timeSyncWaitMs).toBe(5000);
  });

  it("the minimal example leaves the optional parts at their defaults", async () => {
    const c = await loadEdgeConfig(path.join(dir, "center-minimal.yaml"));
    expect(c.lan).toEqual({ host: "127.0.0.1", port: 18830, seatDebounceMs: 0 });
    expect([c.power, c.seats, c.memberCache, c.trustedClock, c.aliveMarkS]).toEqual([[], [], undefined, false, 1]);
  });
});
