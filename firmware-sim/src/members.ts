/**
 * What the access decision SHOULD be for a card, from the simulator's own copy
 * of the member list: the ground truth's `expected` field. Deliberately a
 * small, independent model (not the edge's rules engine): unknown card,
 * suspended, inactive, plan expired, otherwise granted. Rules the edge may add
 * (schedules, capacity, center allow-lists) are not modelled here.
 *
 * The member shape is the edge's member-file shape (`{ members: [...] }`,
 * validUntil = inclusive local date "YYYY-MM-DD" at the center's UTC offset,
 * Pakistan = UTC+5, no DST) so one list feeds both the edge and the sim.
 */
import type { ExpectedReason } from "./ground-truth.ts";

export interface SimMember {
  id: string;
  /** Canonical 10-hex EM4100 ids (§1.4). */
  cards: string[];
  /** "inactive" is modelled here but not accepted by the edge's member file today; the default layout never uses it. */
  status: "active" | "suspended" | "inactive";
  /** Last local date (inclusive) the plan is valid, "YYYY-MM-DD". */
  validUntil?: string;
}

export interface Expectation {
  memberId: string | null;
  expected: "granted" | "denied";
  reason: ExpectedReason;
}

export function indexCards(members: readonly SimMember[]): Map<string, SimMember> {
  const byCard = new Map<string, SimMember>();
  for (const m of members) for (const c of m.cards) byCard.set(c.toUpperCase(), m);
  return byCard;
}

/** The calendar date at `now` in the center's local time. */
export function localDateAt(now: number, utcOffsetMin = 300): string {
  return new Date(now + utcOffsetMin * 60_000).toISOString().slice(0, 10);
}

export function isExpired(member: SimMember, now: number, utcOffsetMin = 300): boolean {
  return member.validUntil !== undefined && localDateAt(now, utcOffsetMin) > member.validUntil;
}

/**
 * What the edge must decide for a card at `now`. `direction: "out"`: a known card always leaves (the edge's
 * rule, edge/src/access/decide.ts: nobody is kept inside by a suspended or expired plan); only an unknown
 * card is refused at an exit reader.
 */
export function expectedDecision(member: SimMember | undefined, now: number, utcOffsetMin = 300, direction: "in" | "out" = "in"): Expectation {
  if (!member) return { memberId: null, expected: "denied", reason: "unknown_card" };
  if (direction === "out") return { memberId: member.id, expected: "granted", reason: "ok" };
  if (member.status === "suspended") return { memberId: member.id, expected: "denied", reason: "suspended" };
  if (member.status === "inactive") return { memberId: member.id, expected: "denied", reason: "inactive" };
  if (isExpired(member, now, utcOffsetMin))
    return { memberId: member.id, expected: "denied", reason: "plan_expired" };
  return { memberId: member.id, expected: "granted", reason: "ok" };
}
