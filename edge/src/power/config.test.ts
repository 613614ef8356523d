import { describe, expect, it } from "vitest";
import { parseEdgeConfig } from "../config.ts";
import { HazriError } from "../../../protocol/errors.ts";

const base = { center: "lhr-01", dataDir: "d", uplink: { url: "mqtt://127.0.0.1:1" }, lan: {}, members: "m.yaml" };

describe("edge config: power section", () => {
  it("defaults: 2400 baud, 2 s poll, 10 s stale, 60 s sample, role ups, NUT port 3493", () => {
    const c = parseEdgeConfig(
      {
        ...base,
        power: [
          { id: "ups1", type: "megatec", path: "/dev/serial/by-path/ups", battery: { emptyV: 21, fullV: 27.3 } },
          { id: "inv1", type: "qpigs", path: "/dev/serial/by-id/inv", pollMs: 5000 },
          { id: "nut1", type: "nut", ups: "seat-ups" },
          { id: "gen", type: "nut", ups: "genset", role: "generator", port: 13496 },
        ],
      },
      "/tmp",
    );
    expect(c.power[0]).toMatchObject({ type: "megatec", baudRate: 2400, pollMs: 2000, staleAfterMs: 10_000, sampleMs: 60_000, role: "ups", reopenAfterMisses: 3 });
    expect(c.power[1]).toMatchObject({ type: "qpigs", pollMs: 5000, lowBatteryPct: 20 });
    expect(c.power[2]).toMatchObject({ type: "nut", host: "127.0.0.1", port: 3493 });
    expect(c.power[3]).toMatchObject({ role: "generator", port: 13496 });
    expect(parseEdgeConfig(base, "/tmp").power).toEqual([]);
  });
  it("all problems at once: unknown type, missing path, bad NUT name, duplicate and clashing ids", () => {
    let err: unknown;
    try {
      parseEdgeConfig(
        {
          ...base,
          doors: [{ id: "main", relay: { path: "/dev/r" } }],
          power: [
            { id: "a", type: "apc", path: "/dev/x" },
            { id: "b", type: "megatec" },
            { id: "c", type: "nut", ups: "bad name" },
            { id: "c", type: "nut", ups: "ok" },
            { id: "main", type: "nut", ups: "ok2", pollMs: 5 },
          ],
        },
        "/tmp",
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HazriError);
    const msg = (err as HazriError).message;
    for (const p of ["power.0", "power.1.path", "power.2.ups", "power.3.id", "power.4.id", "power.4.pollMs"]) expect(msg).toContain(p);
  });
});
