/**
 * A people-shaped day at a center (extends planDay's flat Poisson taps):
 * opening hours, day members arriving on a two-peak curve (morning, after
 * lunch), night-shift members, denied cards (expired, suspended, inactive,
 * unknown) that retry once and leave, tailgaters (follow a granted member in
 * and sit down without a badge), forgotten check-outs (leave without tapping
 * out), and seats taken/freed by the people actually inside — so a "full
 * center" is people without a seat, not a number. Pure and seeded.
 *
 * Device actions are the ones runDay already plays (tap, seat); `person`
 * actions carry what no device sees (who really came in and left, and how)
 * and go to ground truth only.
 */
import type { SimCenterOptions } from "./center.ts";
import { isExpired } from "./members.ts";
import { createRng, type Rng } from "./rng.ts";
import type { CardCategory, ScenarioAction } from "./scenario.ts";

export type PersonAction = {
  at: number;
  kind: "person";
  person: string;
  memberId: string | null;
  event: "enter" | "leave";
  via: "badge" | "tailgate" | "no_checkout";
  seat?: string | null;
};
export type DayAction = Extract<ScenarioAction, { kind: "tap" | "seat" }> | PersonAction;

export interface DayProfileOptions {
  seed: number;
  /** Wall ms of t = 0: decides which plans count as expired. */
  startAt: number;
  /** Local hour at t = 0 (default 6). */
  startHour?: number;
  /** Default 24 h. */
  durationMs?: number;
  openHour?: number;
  closeHour?: number;
  /** Day visits by valid members (default 70 % of the valid members). */
  visits?: number;
  /** Share of valid members on the night shift (arrive ~21:30, stay ~8 h). Default 0.1. */
  nightShare?: number;
  /** Visits by people whose card is refused (expired, suspended, inactive, unknown). Default 10 % of visits. */
  deniedVisits?: number;
  tailgateChance?: number;
  forgotCheckoutChance?: number;
  /** Squeeze every day visit into the morning peak so seats run out (a full center). */
  full?: boolean;
}

type PlanCenter = Pick<SimCenterOptions, "readers" | "seats" | "members">;
const MIN = 60_000;
const HOUR = 3_600_000;

function gauss(rng: Rng): number {
  // Box-Muller; 1 - next() keeps log away from 0.
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

export function planCenterDay(center: PlanCenter, o: DayProfileOptions): DayAction[] {
  const rng = createRng(o.seed);
  const startHour = o.startHour ?? 6;
  const duration = o.durationMs ?? 24 * HOUR;
  const open = o.openHour ?? 8;
  const close = o.closeHour ?? 22;
  const at = (hour: number) => Math.round((((hour - startHour) % 24) + 24) % 24 * HOUR);
  const inR = center.readers.filter((r) => r.direction === "in");
  const outR = center.readers.filter((r) => r.direction === "out");
  if (inR.length === 0) return [];
  const valid = center.members.filter((m) => m.status === "active" && !isExpired(m, o.startAt) && m.cards.length > 0);
  const refused = center.members.flatMap((m): Array<{ card: string; cat: CardCategory }> => {
    const card = m.cards[0]?.toUpperCase();
    if (!card) return [];
    if (m.status === "suspended") return [{ card, cat: "suspended" }];
    if (m.status === "inactive") return [{ card, cat: "inactive" }];
    return isExpired(m, o.startAt) ? [{ card, cat: "expired" }] : [];
  });
  const known = new Set(center.members.flatMap((m) => m.cards.map((c) => c.toUpperCase())));
  const unknownCard = (): string => {
    for (;;) {
      const s = Array.from({ length: 10 }, () => "0123456789ABCDEF"[rng.int(0, 15)]).join("");
      if (!known.has(s)) return s;
    }
  };

  const shuffled = valid.map((m) => ({ m, k: rng.next() })).sort((a, b) => a.k - b.k).map((x) => x.m);
  const nightN = Math.round(shuffled.length * (o.nightShare ?? 0.1));
  const dayN = Math.min(shuffled.length - nightN, o.visits ?? Math.round(valid.length * 0.7));
  const out: DayAction[] = [];
  // Seat intents are resolved after all visits exist, in time order.
  const intents: Array<{ at: number; person: string; sit: boolean }> = [];
  let personN = 0;

  const visit = (memberId: string | null, card: string | null, arrive: number, stayMs: number, tailgate: boolean) => {
    const person = `p${String(++personN).padStart(4, "0")}`;
    const reader = rng.pick(inR);
    if (card !== null) out.push({ at: arrive, kind: "tap", reader: reader.id, cardId: card.toUpperCase(), category: "valid" });
    out.push({ at: arrive + (tailgate ? 3_000 : 1_000), kind: "person", person, memberId, event: "enter", via: tailgate ? "tailgate" : "badge" });
    const sitAt = arrive + rng.int(1, 6) * MIN;
    const leave = arrive + stayMs;
    intents.push({ at: sitAt, person, sit: true });
    if (leave - 5 * MIN > sitAt) intents.push({ at: leave - rng.int(2, 5) * MIN, person, sit: false });
    const forgot = !tailgate && rng.chance(o.forgotCheckoutChance ?? 0.05);
    const sameDoor = outR.filter((r) => r.door === reader.door);
    if (card !== null && !forgot && outR.length > 0) {
      out.push({ at: leave, kind: "tap", reader: rng.pick(sameDoor.length > 0 ? sameDoor : outR).id, cardId: card.toUpperCase(), category: "valid" });
    }
    out.push({ at: leave + 1_000, kind: "person", person, memberId, event: "leave", via: tailgate ? "tailgate" : card !== null && !forgot && outR.length > 0 ? "badge" : "no_checkout" });
  };

  for (const m of shuffled.slice(0, dayN)) {
    const r = rng.next();
    const hour = o.full ? 9 + Math.abs(gauss(rng)) * 0.5 : r < 0.6 ? 9.5 + gauss(rng) * 0.75 : r < 0.85 ? 13.5 + gauss(rng) : open + rng.next() * (close - open - 2);
    const arriveH = Math.min(close - 1, Math.max(open, hour));
    const stayH = Math.max(1, Math.min(close - arriveH, 6 + gauss(rng) * 2));
    const arrive = at(arriveH) + rng.int(0, 59_999);
    visit(m.id, m.cards[0] as string, arrive, Math.round(stayH * HOUR), false);
    if (rng.chance(o.tailgateChance ?? 0.03)) visit(null, null, arrive + 2_000, Math.round(rng.int(60, 300) * MIN), true);
  }
  for (const m of shuffled.slice(shuffled.length - nightN)) {
    const arrive = at(21.5 + gauss(rng) * 0.5) + rng.int(0, 59_999);
    visit(m.id, m.cards[0] as string, arrive, Math.round((8 + gauss(rng)) * HOUR), false);
  }
  const denied = o.deniedVisits ?? Math.round((dayN + nightN) * 0.1);
  for (let i = 0; i < denied; i++) {
    const useKnown = refused.length > 0 && rng.chance(0.6);
    const pick = useKnown ? rng.pick(refused) : { card: unknownCard(), cat: "unknown" as const };
    const t = at(open + rng.next() * (close - open));
    const reader = rng.pick(inR).id;
    out.push({ at: t, kind: "tap", reader, cardId: pick.card, category: pick.cat });
    if (rng.chance(0.6)) out.push({ at: t + rng.int(4_000, 15_000), kind: "tap", reader, cardId: pick.card, category: pick.cat });
  }

  // Seats: people take a free seat when they sit; when none is free the center is full for them.
  intents.sort((a, b) => a.at - b.at);
  const seatOf = new Map<string, string>();
  const free = new Set(center.seats.map((s) => s.id));
  for (const it of intents) {
    if (it.sit) {
      const choices = [...free];
      if (choices.length === 0) {
        seatOf.set(it.person, "");
        continue;
      }
      const seat = rng.pick(choices);
      free.delete(seat);
      seatOf.set(it.person, seat);
      out.push({ at: it.at, kind: "seat", seat, occupied: true });
    } else {
      const seat = seatOf.get(it.person);
      if (!seat) continue;
      free.add(seat);
      out.push({ at: it.at, kind: "seat", seat, occupied: false });
    }
  }
  for (const a of out) if (a.kind === "person" && a.event === "enter") a.seat = seatOf.get(a.person) || null;

  return out
    .filter((a) => a.at >= 0 && a.at < duration)
    .map((a, i) => ({ a, i }))
    .sort((x, y) => x.a.at - y.a.at || x.i - y.i)
    .map((x) => x.a);
}
