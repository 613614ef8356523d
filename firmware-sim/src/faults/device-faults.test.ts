import { describe, expect, it } from "vitest";
import { defaultLayout } from "../layout.ts";
import { centerIds } from "../cli.ts";
import { checkFaults, faultSteps, parseFaults } from "./device-faults.ts";

describe("--faults spec", () => {
  it("parses device:id:fault[=ms]@from-to (sim seconds); ups/inverter are power devices; defaults for =ms", () => {
    expect(parseFaults("reader:main-in:silent@60-120,ups:ups:corrupt@300-360, power:inverter:late=900@1.5-2")).toEqual([
      { device: "reader", id: "main-in", fault: "silent", fromS: 60, toS: 120 },
      { device: "power", id: "ups", fault: "corrupt", fromS: 300, toS: 360 },
      { device: "power", id: "inverter", fault: "late", value: 900, fromS: 1.5, toS: 2 },
    ]);
    expect(parseFaults("reader:r1:drip@0-1")[0]).toMatchObject({ fault: "drip", value: 5 });
    expect(parseFaults("ups:ups:stale@1-2,inverter:inverter:flap=700@1-2,nut:n1:unplug@1-2,nut:n1:stale@3-4,seat:s01:late@1-2,seat:s01:garbage@3-4")).toEqual([
      { device: "power", id: "ups", fault: "stale", fromS: 1, toS: 2 },
      { device: "power", id: "inverter", fault: "flap", value: 700, fromS: 1, toS: 2 },
      { device: "nut", id: "n1", fault: "unplug", fromS: 1, toS: 2 },
      { device: "nut", id: "n1", fault: "stale", fromS: 3, toS: 4 },
      { device: "seat", id: "s01", fault: "late", value: 2000, fromS: 1, toS: 2 },
      { device: "seat", id: "s01", fault: "garbage", fromS: 3, toS: 4 },
    ]);
  });
  it("rejects bad specs with a message naming the item and what is allowed", () => {
    expect(() => parseFaults("reader:main-in:silent")).toThrow(/"reader:main-in:silent": expected <device>:<id>:<fault>/);
    expect(() => parseFaults("toaster:t1:silent@1-2")).toThrow(/unknown device kind "toaster"/);
    expect(() => parseFaults("reader:r1:melt@1-2")).toThrow(/reader has no fault "melt" \(silent, corrupt/);
    expect(() => parseFaults("reader:r1:silent=5@1-2")).toThrow(/silent takes no =<ms>/);
    expect(() => parseFaults("reader:r1:silent@5-5")).toThrow(/end must be after the start/);
  });
  it("start and end steps in time order; ids checked against the center", () => {
    const steps = faultSteps(parseFaults("ups:ups:silent@300-360,reader:main-in:corrupt@60-400"));
    expect(steps.map((s) => [s.at, s.device, s.fault, s.active])).toEqual([
      [60_000, "reader", "corrupt", true],
      [300_000, "power", "silent", true],
      [360_000, "power", "silent", false],
      [400_000, "reader", "corrupt", false],
    ]);
    const center = { config: { centerId: "c1", dir: "", seed: 1, ...defaultLayout("c1", 1, { seats: 2 }) } };
    expect(checkFaults(center, parseFaults("reader:main-in:silent@1-2,seat:s01:offline@1-2,ups:inverter:late@1-2,relay:main:unplug@1-2"))).toEqual([]);
    expect(checkFaults(center, parseFaults("reader:nope:silent@1-2,contact:main:silent@1-2,radar:s01:silent@1-2"))).toEqual([
      'faults: center c1 has no reader "nope"',
      'faults: center c1 has no contact "main" with a door contact',
      'faults: center c1 has no radar "s01"',
    ].map((m) => `--${m}`));
  });
});

describe("--centers", () => {
  it("N centers from a prefix, or a list; clear errors", () => {
    expect(centerIds("lhr", undefined)).toEqual(["lhr"]);
    expect(centerIds("lhr", "3")).toEqual(["lhr-1", "lhr-2", "lhr-3"]);
    expect(centerIds(undefined, "a,b, c")).toEqual(["a", "b", "c"]);
    expect(() => centerIds(undefined, "3")).toThrow(/needs --center <prefix>/);
    expect(() => centerIds("x", "0")).toThrow(/1\.\.200/);
    expect(() => centerIds(undefined, "a,a")).toThrow(/duplicate/);
    expect(() => centerIds(undefined, "a,b c")).toThrow(/"b c" is not valid/);
    expect(() => centerIds("x", "a,b")).toThrow(/exclusive/);
  });
});
