import type { AccessReason, BadgeFlag } from "../../../protocol/events.ts";

/**
 * Pure door decision (issue 3, "Access decisions"). No I/O, no clock: every
 * input is in the context, so the whole rule table is a unit test.
 *
 * Order of checks for an "in" tap (the first that fails names the reason):
 *   1. unknown card                       → unknown_card
 *   2. member suspended                   → suspended
 *   3. cache stale (older than the limit) → stale_cache, unless staff (staff get in, flagged stale_cache)
 *   4. center not in the member's centers → center_not_allowed
 *   5. validFrom in the future            → plan_not_started
 *   6. validUntil in the past             → plan_expired
 *   7. outside the member's schedule      → outside_schedule (staff are exempt)
 *   8. center at capacity                 → at_capacity in "deny" mode; in "flag" mode a grant with flag
 *                                           `capacity` and flagged=true (staff are exempt)
 *   9. anti-passback (already in)         → never denies: flag `antipassback` (soft APB, reliability DA-7)
 *
 * An "out" tap by a known card is always granted: egress must never trap a
 * person inside (life safety; expired or out-of-schedule members must be able
 * to leave). Only an unknown card is denied on the way out.
 *
 * Dates: `validFrom`/`validUntil` are inclusive calendar days in the center's
 * local time (`utcOffsetMin`, default +300 = PKT, UTC+5, no DST). Schedules are
 * local wall-clock windows [from, to) in minutes after midnight; `from > to`
 * wraps midnight (night shift, e.g. 20:00–08:00). A member without a schedule
 * is 24x7. With an unsynced clock the date and schedule rules still run on the
 * (possibly wrong) clock and the badge carries `clock_unsynced` (DA-6): staff
 * and 24x7 members without dates are unaffected by a wrong clock.
 */
export interface AccessMember {
  id: string;
  cards: readonly string[];
  status: "active" | "suspended";
  validFrom?: string | undefined;
  validUntil?: string | undefined;
  centers?: readonly string[] | "all" | undefined;
  schedule?: "day" | "night" | "24x7" | undefined;
  staff: boolean;
}

/** Minutes after local midnight; `from === to` means the whole day. */
export interface ScheduleWindow {
  from: number;
  to: number;
}

export interface AccessPolicy {
  schedules: { day: ScheduleWindow; night: ScheduleWindow };
  /** People inside at which "in" taps hit the capacity rule; undefined = no limit. */
  capacity?: number | undefined;
  capacityMode: "deny" | "flag";
  /** Cache age beyond which only staff get in (default 72 h). */
  staleAfterMs: number;
}

export const DEFAULT_POLICY: AccessPolicy = {
  schedules: { day: { from: 8 * 60, to: 20 * 60 }, night: { from: 20 * 60, to: 8 * 60 } },
  capacityMode: "deny",
  staleAfterMs: 72 * 3600_000,
};

export interface DecideContext {
  now: number;
  centerId: string;
  utcOffsetMin?: number;
  direction?: "in" | "out";
  policy?: AccessPolicy;
  /** Age of the member cache in ms; undefined = no staleness rule (static member file). */
  cacheAgeMs?: number | undefined;
  /** People currently inside (for capacity). */
  occupancy?: number;
  /** This member's last grant was an "in" with no "out" since (for soft anti-passback). */
  alreadyIn?: boolean;
  /** Whether the wall clock is synced; false adds `clock_unsynced` when a time rule was used. */
  clockSynced?: boolean;
}

export interface Decision {
  decision: "granted" | "denied";
  reason: AccessReason;
  /** Soft findings; absent when there are none. */
  flags?: BadgeFlag[];
}

export function localDate(now: number, utcOffsetMin = 300): string {
  return new Date(now + utcOffsetMin * 60_000).toISOString().slice(0, 10);
}

/** Minutes after local midnight. */
export function localMinutes(now: number, utcOffsetMin = 300): number {
  const d = new Date(now + utcOffsetMin * 60_000);
  return d.getUTCHours() * 60 + d.getUTCMinutes();
}

export function inWindow(minute: number, w: ScheduleWindow): boolean {
  if (w.from === w.to) return true;
  return w.from < w.to ? minute >= w.from && minute < w.to : minute >= w.from || minute < w.to;
}

/** "HH:MM" → minutes after midnight; null when malformed. */
export function parseHhMm(s: string): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

const deny = (reason: AccessReason, flags: BadgeFlag[]): Decision => (flags.length ? { decision: "denied", reason, flags } : { decision: "denied", reason });

export function decide(member: AccessMember | undefined, ctx: DecideContext): Decision {
  if (!member) return { decision: "denied", reason: "unknown_card" };
  if (ctx.direction === "out") return { decision: "granted", reason: "ok" };
  const policy = ctx.policy ?? DEFAULT_POLICY;
  const flags: BadgeFlag[] = [];
  if (member.status === "suspended") return deny("suspended", flags);
  if (ctx.cacheAgeMs !== undefined && ctx.cacheAgeMs > policy.staleAfterMs) {
    if (!member.staff) return deny("stale_cache", flags);
    flags.push("stale_cache");
  }
  if (Array.isArray(member.centers) && !member.centers.includes(ctx.centerId)) return deny("center_not_allowed", flags);
  const schedule = member.staff ? "24x7" : (member.schedule ?? "24x7");
  const usesClock = member.validFrom !== undefined || member.validUntil !== undefined || schedule !== "24x7";
  if (usesClock && ctx.clockSynced === false) flags.push("clock_unsynced");
  const today = localDate(ctx.now, ctx.utcOffsetMin);
  if (member.validFrom !== undefined && today < member.validFrom) return deny("plan_not_started", flags);
  if (member.validUntil !== undefined && today > member.validUntil) return deny("plan_expired", flags);
  if (schedule !== "24x7" && !inWindow(localMinutes(ctx.now, ctx.utcOffsetMin), policy.schedules[schedule])) {
    return deny("outside_schedule", flags);
  }
  if (!member.staff && policy.capacity !== undefined && (ctx.occupancy ?? 0) >= policy.capacity) {
    if (policy.capacityMode === "deny") return deny("at_capacity", flags);
    flags.push("capacity");
  }
  if (ctx.alreadyIn) flags.push("antipassback");
  return flags.length ? { decision: "granted", reason: "ok", flags } : { decision: "granted", reason: "ok" };
}

/** `flagged` on the badge event: a grant taken although a rule would deny it (capacity in flag mode). */
export function isFlaggedGrant(d: Decision): boolean {
  return d.decision === "granted" && (d.flags?.includes("capacity") ?? false);
}
