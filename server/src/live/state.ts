import type { BadgeEvent, DoorEvent, HazriEvent, HeartbeatEvent, PowerEvent, SeatEvent } from "../../../protocol/events.ts";
import type { EdgeStatus } from "../../../protocol/messages.ts";

/**
 * Live view of every center, rebuilt from events alone. The edge re-sends
 * un-acked batches and a replay may arrive after newer events, so every slot
 * (member, seat, door, power) keeps the LATEST event by `isLater` (below):
 * last-writer-wins by the outbox order. Applying any permutation of the same
 * events, with any duplicates, gives the same state. No I/O, no clock.
 */

export const LAST_EVENTS = 50;

export interface PersonIn {
  memberId: string;
  cardId: string;
  since: number;
  door: string;
}
export interface SeatLive {
  zone: string;
  state: SeatEvent["state"];
  since: number;
}
/**
 * A door has two independent facts: its contact (opened, closed, forced_open, held_open) and its lock
 * (the relay: unlocked, locked). `state`/`since` are the contact's — the relay re-locks a few seconds after
 * a grant while the door may still stand open, so "latest door event" would show a held-open door as
 * locked — or, for a door without a contact sensor, the lock's.
 */
export interface DoorLive {
  state: DoorEvent["state"];
  since: number;
  lock: { state: "locked" | "unlocked"; since: number } | null;
}
export interface PowerLive {
  source: PowerEvent["source"];
  link: PowerEvent["link"];
  ups: PowerEvent["ups"];
  since: number;
}
export interface EdgeLive {
  online: boolean;
  bootId: string;
  lastSeen: number;
}
export interface ZoneLive {
  /** From the center config; null for a zone only seen in seat events. */
  name: string | null;
  occupied: number;
  /** Configured seats of the zone (at least the seats seen in it). */
  total: number;
}
export interface CenterLive {
  centerId: string;
  peopleIn: PersonIn[];
  peopleInCount: number;
  seats: Record<string, SeatLive>;
  seatsOccupied: number;
  /** Configured seats of the center (center config), at least the seats seen; without a config, the seats seen. */
  seatsTotal: number;
  /** Per zone, by zone id: configured zones (even with no seat seen yet) and zones seen in seat events. */
  zones: Record<string, ZoneLive>;
  doors: Record<string, DoorLive>;
  power: PowerLive | null;
  edge: EdgeLive | null;
  /** Newest (by `isLater`) first, at most LAST_EVENTS, no duplicates. */
  lastEvents: HazriEvent[];
}
export interface CenterSummary {
  centerId: string;
  peopleInCount: number;
  seatsOccupied: number;
  seatsTotal: number;
  doorsOpen: number;
  powerSource: PowerEvent["source"] | null;
  edgeOnline: boolean | null;
  lastEventTs: number | null;
}

/** What an edge last reported about itself (metrics: edges online, outbox depths). */
export interface EdgeReport {
  centerId: string;
  /** null: no status message seen yet. */
  online: boolean | null;
  /** From the latest heartbeat event; null: none seen. */
  outboxDepth: number | null;
  heartbeatTs: number | null;
}

interface CenterSlots {
  /** Latest GRANTED badge per person; denied badges never change presence. */
  members: Map<string, BadgeEvent>;
  seats: Map<string, SeatEvent>;
  doors: Map<string, { contact: DoorEvent | null; lock: DoorEvent | null }>;
  power: PowerEvent | null;
  heartbeat: HeartbeatEvent | null;
  edgeStatus: EdgeStatus | null;
  lastSeen: number;
  lastEvents: HazriEvent[];
}

/** The seat layout of a center as configured (registry/center-config.ts). */
export interface SeatLayout {
  zones: ReadonlyArray<{ id: string; name?: string | undefined; seats: number }>;
  seats: ReadonlyArray<{ id: string; zone: string }>;
}

export interface LiveOptions {
  /** The check-out cut-off of a center now (epoch ms): a badge-in before it no longer counts as "in". */
  checkoutCutoff?: (centerId: string) => number;
  /** The configured zones and seats of a center, or null (no config). */
  layout?: (centerId: string) => SeatLayout | null;
}

/**
 * Zones and totals of a center: a configured zone's total is its configured
 * seat count, at least the seats listed in it and the seats seen in it (so
 * occupied never exceeds total). A seat listed in the config counts in its
 * configured zone; an unlisted seat in the zone its events name.
 */
export function zoneFigures(layout: SeatLayout | null, seats: Iterable<[string, { zone: string; state: SeatEvent["state"] }]>): {
  zones: Record<string, ZoneLive>;
  seatsTotal: number;
} {
  const acc = new Map<string, { name: string | null; occupied: number; total: number; seen: number }>();
  const zoneOf = new Map<string, string>();
  const zone = (id: string) => {
    let z = acc.get(id);
    if (!z) acc.set(id, (z = { name: null, occupied: 0, total: 0, seen: 0 }));
    return z;
  };
  for (const z of layout?.zones ?? []) Object.assign(zone(z.id), { name: z.name ?? null, total: z.seats });
  const listed = new Map<string, number>();
  for (const st of layout?.seats ?? []) {
    zoneOf.set(st.id, st.zone);
    listed.set(st.zone, (listed.get(st.zone) ?? 0) + 1);
  }
  for (const [id, n] of listed) zone(id).total = Math.max(zone(id).total, n);
  for (const [id, st] of seats) {
    const z = zone(zoneOf.get(id) ?? st.zone);
    z.seen++;
    if (st.state === "occupied") z.occupied++;
  }
  const zones: Record<string, ZoneLive> = {};
  let seatsTotal = 0;
  // Listed seats not seen yet are in `total` already; seen seats beyond the configured count raise it.
  for (const [id, z] of [...acc].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const total = Math.max(z.total, z.seen);
    zones[id] = { name: z.name, occupied: z.occupied, total };
    seatsTotal += total;
  }
  return { zones, seatsTotal };
}

export interface LiveState {
  apply(event: HazriEvent): void;
  /**
   * A check-out cut-off for every center (on top of `LiveOptions.checkoutCutoff`):
   * from now on a person counts as "in" only if their latest granted "in" badge
   * is at or after `ts`. Order-independent (a replayed old badge cannot bring
   * anyone back); never moves backwards.
   */
  setCheckoutCutoff(ts: number): void;
  setEdgeStatus(status: EdgeStatus): void;
  center(centerId: string): CenterLive | null;
  centers(): CenterSummary[];
  edges(): EdgeReport[];
}

/** Open = the contact says so; a door without a contact sensor counts as open while unlocked. */
const OPEN_DOOR_STATES = new Set<DoorEvent["state"]>(["opened", "forced_open", "held_open", "unlocked"]);
const LOCK_STATES = new Set<DoorEvent["state"]>(["locked", "unlocked"]);

type Ordered = Pick<HazriEvent, "bootId" | "seq" | "ts" | "synced">;

/**
 * Whether `a` happened after `b` (two events of one center). An event is
 * identified by (bootId, seq): the boot id is stamped at capture and a re-send
 * carries it unchanged.
 *  - Same boot: by seq (the outbox order; immune to wall-clock jumps).
 *  - Different boots, both wall clocks synced: by ts, then seq. Normally seq
 *    continues across restarts and agrees with ts; but an outbox that was wiped
 *    (SD card replaced) restarts seq at 1 under a new boot id, and only the
 *    time says its events are the newer ones.
 *  - Different boots, a clock not synced (no RTC after a power cut, §0.7):
 *    by seq, the only order left. Known limit: after an outbox wipe, events
 *    taken before the new boot's clock is synced lose against the old boot's
 *    until a synced event of the same slot arrives.
 * Ties (same seq, other boot) break on the boot id, so the order is total.
 */
export function isLater(a: Ordered, b: Ordered): boolean {
  if (a.bootId === b.bootId) return a.seq > b.seq;
  if (a.synced && b.synced && a.ts !== b.ts) return a.ts > b.ts;
  if (a.seq !== b.seq) return a.seq > b.seq;
  return a.bootId > b.bootId;
}

/** The slot holds `next` if it is later. The same event re-sent is not later: keep the first. */
function newer<T extends Ordered>(current: T | undefined | null, next: T): boolean {
  return current === undefined || current === null || isLater(next, current);
}

function insertLastEvent(list: HazriEvent[], e: HazriEvent): void {
  // Newest first; binary search for the slot.
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (isLater(list[mid] as HazriEvent, e)) lo = mid + 1;
    else hi = mid;
  }
  const at = list[lo];
  if (at && at.seq === e.seq && at.bootId === e.bootId) return; // duplicate
  if (lo >= LAST_EVENTS) return;
  list.splice(lo, 0, e);
  if (list.length > LAST_EVENTS) list.length = LAST_EVENTS;
}

export function createLiveState(opts: LiveOptions = {}): LiveState {
  const centers = new Map<string, CenterSlots>();
  let cutoff = 0;
  const slots = (centerId: string): CenterSlots => {
    let c = centers.get(centerId);
    if (!c) {
      c = { members: new Map(), seats: new Map(), doors: new Map(), power: null, heartbeat: null, edgeStatus: null, lastSeen: 0, lastEvents: [] };
      centers.set(centerId, c);
    }
    return c;
  };

  function build(centerId: string, c: CenterSlots): CenterLive {
    const peopleIn: PersonIn[] = [];
    const since = Math.max(cutoff, opts.checkoutCutoff?.(centerId) ?? 0);
    for (const [memberId, b] of c.members)
      if (b.direction === "in" && b.ts >= since) peopleIn.push({ memberId, cardId: b.cardId, since: b.ts, door: b.door });
    peopleIn.sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    const seats: Record<string, SeatLive> = {};
    let seatsOccupied = 0;
    for (const [id, s] of [...c.seats].sort(([a], [b]) => (a < b ? -1 : 1))) {
      seats[id] = { zone: s.zone, state: s.state, since: s.ts };
      if (s.state === "occupied") seatsOccupied++;
    }
    const doors: Record<string, DoorLive> = {};
    for (const [id, d] of [...c.doors].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const shown = (d.contact ?? d.lock) as DoorEvent;
      doors[id] = { state: shown.state, since: shown.ts, lock: d.lock ? { state: d.lock.state as "locked" | "unlocked", since: d.lock.ts } : null };
    }
    const p = c.power;
    const st = c.edgeStatus;
    const { zones, seatsTotal } = zoneFigures(opts.layout?.(centerId) ?? null, Object.entries(seats));
    return {
      centerId,
      peopleIn,
      peopleInCount: peopleIn.length,
      seats,
      seatsOccupied,
      seatsTotal,
      zones,
      doors,
      power: p ? { source: p.source, link: p.link, ups: p.ups, since: p.ts } : null,
      edge: st ? { online: st.state === "online", bootId: st.bootId, lastSeen: c.lastSeen } : null,
      lastEvents: [...c.lastEvents],
    };
  }

  return {
    apply(e) {
      const c = slots(e.centerId);
      c.lastSeen = Math.max(c.lastSeen, e.ts);
      insertLastEvent(c.lastEvents, e);
      switch (e.type) {
        case "badge": {
          if (e.decision !== "granted") return;
          // A grant for a card not in the member cache still lets a person in.
          const key = e.memberId ?? `card:${e.cardId}`;
          if (newer(c.members.get(key), e)) c.members.set(key, e);
          return;
        }
        case "seat":
          if (newer(c.seats.get(e.seat), e)) c.seats.set(e.seat, e);
          return;
        case "door": {
          const d = c.doors.get(e.door) ?? { contact: null, lock: null };
          c.doors.set(e.door, d);
          if (LOCK_STATES.has(e.state)) {
            if (newer(d.lock, e)) d.lock = e;
          } else if (newer(d.contact, e)) d.contact = e;
          return;
        }
        case "power":
          if (newer(c.power, e)) c.power = e;
          return;
        case "heartbeat":
          if (newer(c.heartbeat, e)) c.heartbeat = e;
          return;
        default:
          return;
      }
    },
    setCheckoutCutoff(ts) {
      cutoff = Math.max(cutoff, ts);
    },
    setEdgeStatus(status) {
      const c = slots(status.centerId);
      // Retained status and the Last Will can arrive late; the newest ts wins,
      // and on a tie the offline will (sent by the broker) wins.
      const cur = c.edgeStatus;
      if (!cur || status.ts > cur.ts || (status.ts === cur.ts && status.state === "offline")) c.edgeStatus = status;
      c.lastSeen = Math.max(c.lastSeen, status.ts);
    },
    center(centerId) {
      const c = centers.get(centerId);
      return c ? build(centerId, c) : null;
    },
    centers() {
      return [...centers.keys()].sort().map((id) => {
        const v = build(id, centers.get(id) as CenterSlots);
        return {
          centerId: id,
          peopleInCount: v.peopleInCount,
          seatsOccupied: v.seatsOccupied,
          seatsTotal: v.seatsTotal,
          doorsOpen: Object.values(v.doors).filter((d) => OPEN_DOOR_STATES.has(d.state)).length,
          powerSource: v.power?.source ?? null,
          edgeOnline: v.edge ? v.edge.online : null,
          lastEventTs: v.lastEvents[0]?.ts ?? null,
        };
      });
    },
    edges() {
      return [...centers.keys()].sort().map((centerId) => {
        const c = centers.get(centerId) as CenterSlots;
        return {
          centerId,
          online: c.edgeStatus ? c.edgeStatus.state === "online" : null,
          outboxDepth: c.heartbeat?.outboxDepth ?? null,
          heartbeatTs: c.heartbeat?.ts ?? null,
        };
      });
    },
  };
}
