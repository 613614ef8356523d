import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../../../../protocol/clock.ts";
import type { EventDraft } from "../../../../protocol/events.ts";
import { decodeLd2410, type Ld2410Report } from "./decode.ts";
import { createRadarSeat } from "./seat-source.ts";
import { fromHex } from "../frame.ts";

const rep = (hex: string): Ld2410Report => {
  const r = decodeLd2410(fromHex(hex));
  if (!r.ok || r.kind !== "report") throw new Error("bad vector");
  return r.report;
};
const STILL = rep("F4 F3 F2 F1 0D 00 02 AA 02 00 00 00 78 00 3C 78 00 55 00 F8 F7 F6 F5"); // 120 cm
const NONE = rep("F4 F3 F2 F1 0D 00 02 AA 00 00 00 00 00 00 00 00 00 55 00 F8 F7 F6 F5");
const FAR = rep("F4 F3 F2 F1 0D 00 02 AA 03 36 01 37 5F 00 28 5F 00 55 00 F8 F7 F6 F5"); // detect 95 cm

describe("radar seat debounce (fake timers)", () => {
  let events: EventDraft[];
  beforeEach(() => {
    vi.useFakeTimers();
    events = [];
  });
  afterEach(() => vi.useRealTimers());
  const states = () => events.map((e) => (e.type === "seat" ? `${e.state}/${e.source}` : e.type));
  /** The radar streams ~10 reports/s: feed `r` every 100 ms for `ms`. */
  const stream = async (seat: ReturnType<typeof createRadarSeat>, r: Ld2410Report, ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      seat.report(r);
      await vi.advanceTimersByTimeAsync(100);
    }
  };

  it("continuous reports of a new state commit after debounceMs (repeats do not restart the timer)", async () => {
    const seat = createRadarSeat({ seat: { id: "s01", zone: "quiet" }, debounceMs: 2000, record: (d) => events.push(d), logger: silentLogger });
    await stream(seat, STILL, 1900);
    expect(states()).toEqual([]);
    await stream(seat, STILL, 300);
    expect(states()).toEqual(["occupied/ld2410"]);
    await stream(seat, STILL, 5000);
    expect(states()).toEqual(["occupied/ld2410"]);
    seat.close();
  });
  it("flapping shorter than the debounce records nothing; a settled change records once", async () => {
    const seat = createRadarSeat({ seat: { id: "s01", zone: "quiet" }, debounceMs: 1000, record: (d) => events.push(d), logger: silentLogger });
    await stream(seat, NONE, 1500);
    expect(states()).toEqual(["vacant/ld2410"]);
    for (let k = 0; k < 10; k++) {
      await stream(seat, STILL, 300);
      await stream(seat, NONE, 300);
    }
    expect(states()).toEqual(["vacant/ld2410"]);
    await stream(seat, STILL, 1500);
    expect(states()).toEqual(["vacant/ld2410", "occupied/ld2410"]);
    seat.close();
  });
  it("link loss → unknown at once; reports afterwards make it known again (debounced)", async () => {
    const seat = createRadarSeat({ seat: { id: "s01", zone: "quiet" }, debounceMs: 500, record: (d) => events.push(d), logger: silentLogger });
    await stream(seat, STILL, 800);
    seat.link(false);
    expect(states()).toEqual(["occupied/ld2410", "unknown/ld2410"]);
    await stream(seat, STILL, 800);
    expect(states()).toEqual(["occupied/ld2410", "unknown/ld2410", "occupied/ld2410"]);
    seat.close();
  });
  it("maxDistanceCm: a target beyond the desk is vacant", async () => {
    const seat = createRadarSeat({ seat: { id: "s01", zone: "quiet" }, debounceMs: 0, maxDistanceCm: 100, record: (d) => events.push(d), logger: silentLogger });
    seat.report(STILL); // 120 cm
    seat.report(FAR); // 95 cm
    expect(states()).toEqual(["vacant/ld2410", "occupied/ld2410"]);
    seat.close();
  });
});
