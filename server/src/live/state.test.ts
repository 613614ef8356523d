import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { HazriEvent } from "../../../protocol/events.ts";
import { createLiveState, isLater, LAST_EVENTS } from "./state.ts";

const base = (seq: number, centerId = "isb-01") => ({
  v: 1 as const,
  centerId,
  bootId: "boot-0001",
  seq,
  ts: 1_700_000_000_000 + seq * 1000,
  mono: seq,
  synced: true,
});
const badge = (seq: number, memberId: string | null, direction: "in" | "out", decision: "granted" | "denied" = "granted"): HazriEvent => ({
  ...base(seq),
  type: "badge",
  door: "main",
  reader: "rdr-1",
  direction,
  cardId: "0A1B2C3D4E",
  memberId,
  decision,
  reason: decision === "granted" ? "ok" : "plan_expired",
  flagged: false,
});
const seat = (seq: number, id: string, state: "occupied" | "vacant" | "unknown"): HazriEvent => ({
  ...base(seq),
  type: "seat",
  seat: id,
  zone: "z1",
  state,
  source: "mqtt",
});
const door = (seq: number, state: "opened" | "closed" | "locked" | "unlocked" | "held_open", id = "main"): HazriEvent => ({ ...base(seq), type: "door", door: id, state });
const power = (seq: number, source: "mains" | "battery"): HazriEvent => ({
  ...base(seq),
  type: "power",
  source,
  link: "ok",
  device: "ups1",
  ups: null,
});

describe("live state", () => {
  it("counts people in from granted badges; out removes, denied changes nothing", () => {
    const live = createLiveState();
    live.apply(badge(1, "m1", "in"));
    live.apply(badge(2, "m2", "in"));
    live.apply(badge(3, "m2", "out"));
    live.apply(badge(4, "m1", "out", "denied"));
    live.apply(badge(5, "m3", "in", "denied"));
    const c = live.center("isb-01");
    expect(c?.peopleInCount).toBe(1);
    expect(c?.peopleIn).toEqual([{ memberId: "m1", cardId: "0A1B2C3D4E", since: base(1).ts, door: "main" }]);
  });

  it("a replayed older event never overrides a newer one (last writer by seq)", () => {
    const live = createLiveState();
    live.apply(badge(3, "m1", "out"));
    live.apply(badge(2, "m1", "in")); // late replay
    live.apply(seat(5, "s1", "vacant"));
    live.apply(seat(4, "s1", "occupied"));
    live.apply(door(7, "closed"));
    live.apply(door(6, "opened"));
    live.apply(power(9, "battery"));
    live.apply(power(8, "mains"));
    const c = live.center("isb-01");
    expect(c?.peopleInCount).toBe(0);
    expect(c?.seats.s1?.state).toBe("vacant");
    expect(c?.seatsOccupied).toBe(0);
    expect(c?.doors.main).toEqual({ state: "closed", since: base(7).ts, lock: null });
    expect(c?.power?.source).toBe("battery");
    expect(c?.lastEvents.map((e) => e.seq)).toEqual([9, 8, 7, 6, 5, 4, 3, 2]);
  });

  it("a door's contact and lock are separate: the relay re-locking does not hide a door standing open", () => {
    const live = createLiveState();
    live.apply(door(1, "unlocked"));
    live.apply(door(2, "opened"));
    live.apply(door(3, "locked")); // relay re-locks after unlockMs; the door still stands open
    live.apply(door(4, "held_open"));
    live.apply(door(1, "unlocked", "back")); // no contact sensor on the back door
    let c = live.center("isb-01");
    expect(c?.doors.main).toEqual({ state: "held_open", since: base(4).ts, lock: { state: "locked", since: base(3).ts } });
    expect(c?.doors.back).toEqual({ state: "unlocked", since: base(1).ts, lock: { state: "unlocked", since: base(1).ts } });
    expect(live.centers()[0]?.doorsOpen).toBe(2);
    live.apply(door(5, "closed"));
    live.apply(door(2, "locked", "back"));
    c = live.center("isb-01");
    expect(c?.doors.main?.state).toBe("closed");
    expect(c?.doors.back?.state).toBe("locked");
    expect(live.centers()[0]?.doorsOpen).toBe(0);
  });

  it("keeps at most LAST_EVENTS, newest first, without duplicates", () => {
    const live = createLiveState();
    for (let s = 1; s <= LAST_EVENTS + 20; s++) live.apply(door(s, s % 2 ? "opened" : "closed"));
    for (let s = LAST_EVENTS + 20; s >= 1; s--) live.apply(door(s, s % 2 ? "opened" : "closed"));
    const seqs = live.center("isb-01")?.lastEvents.map((e) => e.seq) ?? [];
    expect(seqs).toHaveLength(LAST_EVENTS);
    expect(seqs[0]).toBe(LAST_EVENTS + 20);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("edge status: newest ts wins; unknown center is null; centers() summarises", () => {
    const live = createLiveState();
    expect(live.center("nope")).toBeNull();
    live.setEdgeStatus({ v: 1, centerId: "isb-01", state: "offline", bootId: "boot-0002", ts: 20 });
    live.setEdgeStatus({ v: 1, centerId: "isb-01", state: "online", bootId: "boot-0001", ts: 10 });
    expect(live.center("isb-01")?.edge).toEqual({ online: false, bootId: "boot-0002", lastSeen: 20 });
    live.apply(seat(1, "s1", "occupied"));
    expect(live.centers()).toEqual([
      {
        centerId: "isb-01",
        peopleInCount: 0,
        seatsOccupied: 1,
        seatsTotal: 1,
        doorsOpen: 0,
        powerSource: null,
        edgeOnline: false,
        lastEventTs: base(1).ts,
      },
    ]);
  });

  it("property: shuffle(events ++ duplicates) gives the same state as in-order", () => {
    const members = ["m1", "m2", "m3", null];
    const ev = fc
      .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.boolean())
      .map(([kind, k, b1, b2]) => (seq: number): HazriEvent => {
        switch (kind) {
          case 0:
          case 1:
          case 2:
            return badge(seq, members[k] ?? null, b1 ? "in" : "out", b2 || kind === 0 ? "granted" : "denied");
          case 3:
            return seat(seq, `s${k}`, b1 ? "occupied" : b2 ? "vacant" : "unknown");
          case 4:
            return door(seq, b1 ? "opened" : "closed");
          case 5:
            return power(seq, b1 ? "mains" : "battery");
          default:
            return { ...base(seq), type: "uplink", state: b1 ? "up" : "down" };
        }
      });
    fc.assert(
      fc.property(
        fc.array(ev, { minLength: 1, maxLength: 120 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.infiniteStream(fc.nat()),
        (makers, dupIdx, rand) => {
          const events = makers.map((m, i) => m(i + 1));
          const inOrder = createLiveState();
          for (const e of events) inOrder.apply(e);
          const dups = dupIdx.map((i) => events[i % events.length] as HazriEvent);
          const mixed = [...events, ...dups];
          // Fisher-Yates with fast-check's randomness (shrinkable, reproducible).
          const it = rand[Symbol.iterator]();
          for (let i = mixed.length - 1; i > 0; i--) {
            const j = (it.next().value as number) % (i + 1);
            [mixed[i], mixed[j]] = [mixed[j] as HazriEvent, mixed[i] as HazriEvent];
          }
          const shuffled = createLiveState();
          for (const e of mixed) shuffled.apply(e);
          expect(shuffled.center("isb-01")).toEqual(inOrder.center("isb-01"));
          expect(shuffled.centers()).toEqual(inOrder.centers());
        },
      ),
      { numRuns: 200 },
    );
  });

  describe("an outbox wiped at the edge (SD card replaced): seq restarts at 1 under a new boot id", () => {
    const T = 1_700_000_000_000;
    const at = (bootId: string, seq: number, ts: number, synced = true) => ({ v: 1 as const, centerId: "isb-01", bootId, seq, ts, mono: seq, synced });
    const ev = {
      badge: (b: ReturnType<typeof at>, memberId: string, direction: "in" | "out"): HazriEvent => ({
        ...b, type: "badge", door: "main", reader: "rdr-1", direction, cardId: "0A1B2C3D4E", memberId, decision: "granted", reason: "ok", flagged: false,
      }),
      door: (b: ReturnType<typeof at>, state: "opened" | "closed"): HazriEvent => ({ ...b, type: "door", door: "main", state }),
      seat: (b: ReturnType<typeof at>, state: "occupied" | "vacant"): HazriEvent => ({ ...b, type: "seat", seat: "s1", zone: "z1", state, source: "mqtt" }),
      power: (b: ReturnType<typeof at>, source: "mains" | "battery"): HazriEvent => ({ ...b, type: "power", source, link: "ok", device: "ups1", ups: null }),
    };

    it("the new boot's events win every slot although their seqs are lower; lastEvents keeps both boots' seq 1", () => {
      const old = [
        ev.badge(at("boot-old1", 1, T), "m1", "in"),
        ev.badge(at("boot-old1", 5000, T + 5000), "m1", "out"),
        ev.door(at("boot-old1", 5001, T + 5001), "opened"),
        ev.seat(at("boot-old1", 5002, T + 5002), "occupied"),
        ev.power(at("boot-old1", 5003, T + 5003), "battery"),
      ];
      const fresh = [
        ev.badge(at("boot-new1", 1, T + 60_000), "m1", "in"),
        ev.door(at("boot-new1", 2, T + 60_001), "closed"),
        ev.seat(at("boot-new1", 3, T + 60_002), "vacant"),
        ev.power(at("boot-new1", 4, T + 60_003), "mains"),
      ];
      for (const order of [[...old, ...fresh], [...fresh, ...old], [...fresh, ...old, ...fresh, ...old].reverse()]) {
        const live = createLiveState();
        for (const e of order) live.apply(e);
        const c = live.center("isb-01");
        expect(c?.peopleIn.map((p) => [p.memberId, p.since])).toEqual([["m1", T + 60_000]]);
        expect(c?.doors.main?.state).toBe("closed");
        expect(c?.seats.s1?.state).toBe("vacant");
        expect(c?.power?.source).toBe("mains");
        // Both seq-1 events are distinct events: neither is dropped as a duplicate of the other.
        expect(c?.lastEvents.map((e) => `${e.bootId}/${e.seq}`)).toEqual([
          "boot-new1/4", "boot-new1/3", "boot-new1/2", "boot-new1/1",
          "boot-old1/5003", "boot-old1/5002", "boot-old1/5001", "boot-old1/5000", "boot-old1/1",
        ]);
      }
    });

    it("a normal restart (seq continues under a new boot id) is ordered by seq, even across an unsynced clock", () => {
      const a = at("boot-a0001", 10, T + 10_000);
      const b = at("boot-b0001", 11, 1000, false); // no RTC: the clock starts near 1970
      expect(isLater(b, a)).toBe(true);
      expect(isLater(a, b)).toBe(false);
      // Documented limit: a wiped outbox whose clock is not synced yet cannot be ordered by time.
      const wipedUnsynced = at("boot-c0001", 1, 2000, false);
      expect(isLater(wipedUnsynced, a)).toBe(false);
      // ... until its clock is synced.
      expect(isLater(at("boot-c0001", 2, T + 90_000), a)).toBe(true);
    });

    it("property: boots in time order, each continuing or restarting seq, synced clocks — any shuffle with duplicates gives the state of the true order", () => {
      const step = fc.record({ reset: fc.boolean(), kinds: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }), flip: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }) });
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 30 }), fc.infiniteStream(fc.nat()), (boots, dupIdx, rand) => {
          const events: HazriEvent[] = [];
          let seq = 0;
          let ts = T;
          boots.forEach((b, i) => {
            if (b.reset) seq = 0;
            const boot = `boot-${String(i).padStart(4, "0")}`;
            b.kinds.forEach((k, j) => {
              const base = at(boot, ++seq, (ts += 1000));
              const f = b.flip[j] ?? false;
              events.push(k === 0 ? ev.badge(base, "m1", f ? "in" : "out") : k === 1 ? ev.door(base, f ? "opened" : "closed") : k === 2 ? ev.seat(base, f ? "occupied" : "vacant") : ev.power(base, f ? "mains" : "battery"));
            });
          });
          const inOrder = createLiveState();
          for (const e of events) inOrder.apply(e);
          // The true last event of each slot is what the live view shows.
          const last = <T extends HazriEvent["type"]>(t: T) => [...events].reverse().find((e) => e.type === t);
          const c = inOrder.center("isb-01");
          const d = last("door");
          if (d?.type === "door") expect(c?.doors.main?.state).toBe(d.state);
          const s = last("seat");
          if (s?.type === "seat") expect(c?.seats.s1?.state).toBe(s.state);
          const p = last("power");
          if (p?.type === "power") expect(c?.power?.source).toBe(p.source);
          const bd = last("badge");
          if (bd?.type === "badge") expect(c?.peopleInCount).toBe(bd.direction === "in" ? 1 : 0);
          expect(c?.lastEvents.map((e) => `${e.bootId}/${e.seq}`)).toEqual([...events].reverse().slice(0, LAST_EVENTS).map((e) => `${e.bootId}/${e.seq}`));
          const mixed = [...events, ...dupIdx.map((i) => events[i % events.length] as HazriEvent)];
          const it = rand[Symbol.iterator]();
          for (let i = mixed.length - 1; i > 0; i--) {
            const j = (it.next().value as number) % (i + 1);
            [mixed[i], mixed[j]] = [mixed[j] as HazriEvent, mixed[i] as HazriEvent];
          }
          const shuffled = createLiveState();
          for (const e of mixed) shuffled.apply(e);
          expect(shuffled.center("isb-01")).toEqual(c);
        }),
        { numRuns: 200 },
      );
    });
  });
});
