import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Clock } from "../../../protocol/clock.ts";
import { silentLogger } from "../../../protocol/clock.ts";
import type { EventDraft } from "../../../protocol/events.ts";
import { initialContactState, stepContact, type ContactConfig, type ContactInput } from "./contact-machine.ts";
import { createDoorContact } from "./contact.ts";
import { decodeContactLine, encodeContactLine } from "./contact-line.ts";

const SECURE: ContactConfig = { heldOpenMs: 30_000, failMode: "secure" };
const SAFE: ContactConfig = { ...SECURE, failMode: "safe" };

/** Run a sequence through the pure machine; returns the alarms per input. */
function run(inputs: ContactInput[], cfg = SECURE): string[][] {
  let s = initialContactState();
  return inputs.map((i) => {
    const r = stepContact(s, i, cfg);
    s = r.state;
    return r.out;
  });
}
const c = (open: boolean, at: number): ContactInput => ({ type: "contact", open, at });

describe("contact machine (transition table)", () => {
  it("first report after start is never forced; closed → open with no unlock is forced", () => {
    expect(run([c(true, 0), c(false, 1000), c(true, 2000)])).toEqual([["opened"], ["closed"], ["opened", "forced_open"]]);
  });
  it("unknown → closed records closed once; repeats are keep-alives with no events", () => {
    expect(run([c(false, 0), c(false, 5000), c(false, 10_000)])).toEqual([["closed"], [], []]);
  });
  it("an opening inside the unlock window is authorised; after it, forced", () => {
    const unlock: ContactInput = { type: "unlock", at: 1000, windowMs: 4000 };
    expect(run([c(false, 0), unlock, c(true, 4999), c(false, 6000)])).toEqual([["closed"], [], ["opened"], ["closed"]]);
    expect(run([c(false, 0), unlock, c(true, 5001)])).toEqual([["closed"], [], ["opened", "forced_open"]]);
  });
  it("held open: reported once when a tick or report comes at/after the limit", () => {
    expect(run([c(false, 0), { type: "unlock", at: 0, windowMs: 3000 }, c(true, 100), { type: "tick", at: 30_099 }, { type: "tick", at: 30_100 }, c(true, 40_000), c(false, 41_000)])).toEqual([
      ["closed"],
      [],
      ["opened"],
      [],
      ["held_open"],
      [],
      ["closed"],
    ]);
  });
  it("fail-safe: an opening while the lock is unpowered (mains cut) is not forced; fail-secure: it is", () => {
    const seq: ContactInput[] = [c(false, 0), { type: "contact", open: true, at: 100, lockUnpowered: true }];
    expect(run(seq, SAFE)[1]).toEqual(["opened"]);
    expect(run(seq, SECURE)[1]).toEqual(["opened", "forced_open"]);
  });
  it("lost link: state unknown, next opening is not forced", () => {
    expect(run([c(false, 0), { type: "lost", at: 10 }, c(true, 20)])).toEqual([["closed"], [], ["opened"]]);
  });
});

describe("contact line (bridge convention)", () => {
  it("C1:1 open, C1:0 closed, invert for NO sensors, junk rejected", () => {
    expect(decodeContactLine("C1:1")).toEqual({ ok: true, input: 1, open: true });
    expect(decodeContactLine("C2:0")).toEqual({ ok: true, input: 2, open: false });
    expect(decodeContactLine("C1:1", { invert: true })).toMatchObject({ open: false });
    for (const bad of ["C1:2", "C:1", "c1:1", "C1:1 ", "W26:0B40288", ""]) expect(decodeContactLine(bad).ok).toBe(false);
    expect(encodeContactLine(3, true)).toBe("C3:1");
  });
});

describe("createDoorContact on fake timers", () => {
  let mono = 0;
  const clock: Clock = { now: () => 1_700_000_000_000 + mono, mono: () => mono };
  let events: EventDraft[];
  beforeEach(() => {
    vi.useFakeTimers();
    mono = 0;
    events = [];
  });
  afterEach(() => vi.useRealTimers());
  const advance = async (ms: number) => {
    mono += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };
  const states = () => events.map((e) => (e.type === "door" ? e.state : e.type));

  it("held-open fires from the timer alone (no further reports needed), once", async () => {
    const dc = createDoorContact({ door: "main", config: { heldOpenMs: 10_000, failMode: "secure" }, clock, record: (d) => events.push(d), logger: silentLogger });
    dc.report(false);
    dc.unlocked(3000);
    await advance(500);
    dc.report(true);
    await advance(9_999);
    expect(states()).toEqual(["closed", "opened"]);
    await advance(1);
    expect(states()).toEqual(["closed", "opened", "held_open"]);
    await advance(60_000);
    dc.report(false);
    expect(states()).toEqual(["closed", "opened", "held_open", "closed"]);
    dc.close();
  });
  it("forced open then held open; closing before the limit cancels the timer", async () => {
    const dc = createDoorContact({ door: "main", config: { heldOpenMs: 5000, failMode: "secure" }, clock, record: (d) => events.push(d), logger: silentLogger });
    dc.report(false);
    await advance(1000);
    dc.report(true);
    await advance(2000);
    dc.report(false);
    await advance(10_000);
    expect(states()).toEqual(["closed", "opened", "forced_open", "closed"]);
    expect(vi.getTimerCount()).toBe(0);
    dc.close();
  });
});
