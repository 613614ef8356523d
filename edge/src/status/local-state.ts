import type { EventDraft, PowerSource, UpsMetrics } from "../../../protocol/events.ts";

/**
 * What the LAN status page shows that the agent does not already keep: fed by every event the agent
 * records (the same drafts that go to the outbox, before the disk, so the page also shows a tap whose
 * append failed). Bounded: one entry per configured seat and power device, and a ring of the last
 * `ringSize` door/badge events. In memory only: after a restart the page starts empty.
 */
export interface RecentEvent {
  ts: number;
  type: "badge" | "door";
  door: string;
  /** badge: reader id, direction, card, member (null: unknown card), decision, reason, flags. */
  reader?: string;
  direction?: "in" | "out";
  cardId?: string;
  memberId?: string | null;
  decision?: "granted" | "denied";
  reason?: string;
  flags?: string[];
  /** door: opened, closed, forced_open, held_open, unlocked, locked. */
  state?: string;
}

export interface SeatView {
  zone: string;
  state: "occupied" | "vacant" | "unknown";
  /** Wall ms of the last change; null: no event since start (state unknown). */
  since: number | null;
}

export interface PowerView {
  source: PowerSource;
  link: "ok" | "stale" | "none";
  ups: UpsMetrics | null;
  at: number;
}

export interface LocalState {
  observe(d: EventDraft, ts: number): void;
  seats(): Record<string, SeatView>;
  recent(): RecentEvent[];
  power(): Record<string, PowerView>;
}

export function createLocalState(o: { seats: readonly { id: string; zone: string }[]; ringSize?: number }): LocalState {
  const size = o.ringSize ?? 50;
  const ring: RecentEvent[] = [];
  const seats = new Map<string, SeatView>(o.seats.map((s) => [s.id, { zone: s.zone, state: "unknown", since: null }]));
  const power = new Map<string, PowerView>();
  const push = (e: RecentEvent) => {
    ring.push(e);
    if (ring.length > size) ring.shift();
  };
  return {
    observe(d, ts) {
      switch (d.type) {
        case "badge":
          push({
            ts,
            type: "badge",
            door: d.door,
            reader: d.reader,
            direction: d.direction,
            cardId: d.cardId,
            memberId: d.memberId,
            decision: d.decision,
            reason: d.reason,
            ...(d.flags?.length ? { flags: [...d.flags] } : {}),
          });
          break;
        case "door":
          push({ ts, type: "door", door: d.door, state: d.state });
          break;
        case "seat": {
          const prev = seats.get(d.seat);
          if (prev || seats.size < 10_000) seats.set(d.seat, { zone: d.zone, state: d.state, since: ts });
          break;
        }
        case "power":
          if (power.has(d.device) || power.size < 1000) power.set(d.device, { source: d.source, link: d.link, ups: d.ups, at: ts });
          break;
        default:
          break;
      }
    },
    seats: () => Object.fromEntries(seats),
    // Newest first: what a person at the desk looks for.
    recent: () => [...ring].reverse(),
    power: () => Object.fromEntries(power),
  };
}
