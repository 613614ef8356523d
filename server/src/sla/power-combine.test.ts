import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PowerSource } from "../../../protocol/events.ts";
import { combinePower, worstKnown } from "./power-combine.ts";
import type { DevicePower } from "./power-combine.ts";

const SOURCES: PowerSource[] = ["mains", "generator", "battery", "low_battery", "down", "unknown"];

describe("combinePower (several power devices, one center)", () => {
  it("unknown only when no device knows; else the worst known state", () => {
    expect(worstKnown([])).toBe("unknown");
    expect(worstKnown(["unknown", "unknown"])).toBe("unknown");
    expect(worstKnown(["unknown", "mains"])).toBe("mains"); // one UPS link stale, the other reads mains
    expect(worstKnown(["mains", "generator"])).toBe("generator"); // the UPS shows a generator as OL
    expect(worstKnown(["mains", "battery"])).toBe("battery");
    expect(worstKnown(["battery", "down", "unknown"])).toBe("down");
  });

  it("a UPS and an inverter through a cut; a stale link; a boot resets every device", () => {
    const e = (t: number, device: string, source: PowerSource): DevicePower => ({ t, device, source });
    const got = combinePower(
      [e(0, "ups", "mains")],
      [
        e(5, "inverter", "mains"),
        e(10, "ups", "battery"),
        e(11, "inverter", "battery"), // the same cut, seen 1 ms later: no extra change
        e(20, "ups", "unknown"), // the UPS link goes stale: the inverter still knows
        e(30, "ups", "mains"),
        e(31, "inverter", "mains"),
        e(40, "inverter", "unknown"),
        e(41, "ups", "unknown"), // both stale: unknown, never up
        e(50, "ups", "mains"),
        e(50, "inverter", "mains"),
        e(70, "old-ups", "down"),
      ],
      [60], // restart: old-ups (not in the new config) is dropped from then on
    );
    expect(got).toEqual([
      { t: 0, state: "mains" },
      { t: 10, state: "battery" }, // the cut, at the first device that saw it
      { t: 31, state: "mains" }, // mains back once every device that knows says so
      { t: 41, state: "unknown" },
      { t: 50, state: "mains" },
      { t: 60, state: "unknown" },
      { t: 70, state: "down" },
    ]);
    // A boot and the first readings in the same millisecond: only the end state.
    expect(combinePower([e(0, "ups", "mains")], [e(9, "ups", "mains")], [9])).toEqual([{ t: 0, state: "mains" }]);
  });

  it("one device: exactly its own ledger (repeats dropped); the combined state is always one a device reported", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ t: fc.integer({ min: 0, max: 100 }), source: fc.constantFrom(...SOURCES), device: fc.constantFrom("a", "b") }), { maxLength: 30 }), (raw) => {
        const xs = [...raw].sort((a, b) => a.t - b.t);
        const only = xs.filter((x) => x.device === "a");
        const ledger: { t: number; state: PowerSource }[] = [];
        for (const x of only) {
          const last = ledger.at(-1);
          if (last && last.t === x.t) ledger.pop();
          if (ledger.at(-1)?.state !== x.source) ledger.push({ t: x.t, state: x.source });
        }
        // a lone device: its unknown is the center's unknown
        expect(combinePower([], only, [])).toEqual(ledger);
        for (const c of combinePower([], xs, [])) {
          const at = new Map<string, PowerSource>();
          for (const x of xs) if (x.t <= c.t) at.set(x.device, x.source);
          expect(c.state).toBe(worstKnown(at.values()));
        }
      }),
      { numRuns: 400 },
    );
  });
});
