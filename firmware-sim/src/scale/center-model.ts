/**
 * The lightweight model of one center for scale mode: no ptys, no devices,
 * just the stream of event drafts a real edge would put in its outbox, seeded
 * and on a Poisson clock. Pure (no node:* imports, no clock): the caller asks
 * "when is your next event" and "give it to me", so the same seed gives the
 * same sequence however fast or slow the caller polls.
 *
 * Mix per center, by rough weights observed in the spine demo: seat changes
 * dominate, then badges (mostly granted, some denied with every reason the
 * edge uses), door contacts, and now and then a power transition with UPS
 * metrics (load-shedding). Heartbeats are periodic and belong to the edge
 * model (they carry its outbox depth), not here.
 */
import type { EventDraft } from "../../../protocol/events.ts";
import { createRng, type Rng } from "../rng.ts";

export interface CenterModelOptions {
  centerId: string;
  seed: number;
  /** Mean events per second for this center (before the per-center size factor). */
  ratePerSec: number;
  /**
   * Spread of center sizes: each center's rate is ratePerSec × a seeded factor
   * uniform in [1 - spread, 1 + spread] (mean 1, so fleet totals stay as asked). Default 0.75.
   */
  sizeSpread?: number;
}

export interface CenterModel {
  readonly centerId: string;
  /** This center's own mean rate (events/s), after the size factor. */
  readonly ratePerSec: number;
  readonly seats: number;
  /** Device ids a heartbeat reports on. */
  readonly devices: readonly string[];
  /** Offset (ms from the model's start) of the next event; Infinity when the rate is 0. */
  nextAt(): number;
  /** The next event draft; advances nextAt(). */
  take(): EventDraft;
}

type Source = "mains" | "generator" | "battery" | "low_battery";

function hexCard(rng: Rng): string {
  let s = "";
  for (let i = 0; i < 10; i++) s += "0123456789ABCDEF"[rng.int(0, 15)];
  return s;
}

export function createCenterModel(o: CenterModelOptions): CenterModel {
  const rng = createRng(o.seed);
  const spread = Math.min(0.99, Math.max(0, o.sizeSpread ?? 0.75));
  const factor = 1 - spread + rng.next() * 2 * spread;
  const rate = Math.max(0, o.ratePerSec * factor);
  const seats = Math.max(4, Math.round(40 * factor));
  const members = Array.from({ length: Math.max(10, seats * 3) }, (_, i) => ({
    id: `${o.centerId}-m${i + 1}`,
    card: hexCard(rng),
  }));
  const occupied = new Array<boolean>(seats).fill(false);
  const inside = new Set<number>();
  let doorOpen = false;
  let source: Source = "mains";
  let charge = 100;
  const evRng = rng.fork();
  const meanGapMs = rate > 0 ? 1000 / rate : Infinity;
  let next = rate > 0 ? evRng.exp(meanGapMs) : Infinity;

  const seatId = (i: number) => `s${String(i + 1).padStart(3, "0")}`;

  function badge(): EventDraft {
    const roll = evRng.next();
    if (roll < 0.06) {
      // Unknown card: not in the cache, memberId null (events.ts BadgeEvent).
      return { type: "badge", door: "main", reader: "main-in", direction: "in", cardId: hexCard(evRng), memberId: null, decision: "denied", reason: "unknown_card", flagged: false };
    }
    const mi = evRng.int(0, members.length - 1);
    const m = members[mi] as { id: string; card: string };
    if (roll < 0.1) {
      const reason = evRng.pick(["plan_expired", "suspended", "inactive"] as const);
      return { type: "badge", door: "main", reader: "main-in", direction: "in", cardId: m.card, memberId: m.id, decision: "denied", reason, flagged: false };
    }
    const out = inside.has(mi);
    if (out) inside.delete(mi);
    else inside.add(mi);
    return {
      type: "badge",
      door: "main",
      reader: out ? "main-out" : "main-in",
      direction: out ? "out" : "in",
      cardId: m.card,
      memberId: m.id,
      decision: "granted",
      reason: "ok",
      flagged: false,
    };
  }

  function power(): EventDraft {
    // Load-shedding cycle: mains → battery → generator → mains (generator start delay covered by the UPS).
    const order: Record<Source, Source> = { mains: "battery", battery: evRng.chance(0.8) ? "generator" : "low_battery", low_battery: "generator", generator: "mains" };
    source = order[source];
    charge = source === "battery" ? Math.max(30, charge - evRng.int(5, 25)) : source === "low_battery" ? evRng.int(5, 20) : Math.min(100, charge + 10);
    const onBattery = source === "battery" || source === "low_battery";
    const status = onBattery ? (source === "low_battery" ? ["OB", "LB"] : ["OB", "DISCHRG"]) : ["OL", ...(charge < 100 ? ["CHRG"] : [])];
    return {
      type: "power",
      source,
      link: "ok",
      device: "ups",
      ups: {
        status,
        chargePct: charge,
        runtimeS: Math.round(charge * 18),
        batteryV: Math.round((22 + charge * 0.05) * 10) / 10,
        inputV: onBattery ? 0 : 225,
        outputV: 230,
        loadPct: 35,
        tempC: 31,
      },
    };
  }

  function take(): EventDraft {
    next += evRng.exp(meanGapMs);
    const r = evRng.next();
    if (r < 0.55) {
      const i = evRng.int(0, seats - 1);
      occupied[i] = !occupied[i];
      return { type: "seat", seat: seatId(i), zone: i % 2 === 0 ? "hot-desk" : "quiet", state: occupied[i] ? "occupied" : "vacant", source: "mqtt" };
    }
    if (r < 0.88) return badge();
    if (r < 0.99) {
      doorOpen = !doorOpen;
      return { type: "door", door: "main", state: doorOpen ? "opened" : "closed" };
    }
    return power();
  }

  return {
    centerId: o.centerId,
    ratePerSec: rate,
    seats,
    devices: ["main-in", "main-out", "main", "ups"],
    nextAt: () => next,
    take,
  };
}
