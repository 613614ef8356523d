/**
 * Pure view logic (no DOM, no fetch): the shapes the pages read from the API
 * and the derivations they show — network table sort/filter, breach flags,
 * the check-in feed, power/internet timelines and outages from raw events,
 * CSV. Unit-tested in model.test.ts.
 */

/** server/src/live/state.ts CenterSummary + configured name (routes/centers.ts). */
export interface CenterSummary {
  centerId: string;
  name?: string | null;
  peopleInCount: number;
  seatsOccupied: number;
  seatsTotal: number;
  doorsOpen: number;
  powerSource: string | null;
  edgeOnline: boolean | null;
  lastEventTs: number | null;
}
export interface LiveEvent {
  type: string;
  seq: number;
  ts: number;
  centerId: string;
  [k: string]: unknown;
}
/** server/src/live/state.ts CenterLive. */
export interface CenterLive {
  centerId: string;
  peopleIn: { memberId: string; cardId: string; since: number; door: string }[];
  peopleInCount: number;
  seats: Record<string, { zone: string; state: "occupied" | "vacant" | "unknown"; since: number }>;
  seatsOccupied: number;
  /** `state` is the contact's (the lock's when the door has no contact sensor); `lock` the relay's. */
  doors: Record<string, { state: string; since: number; lock?: { state: string; since: number } | null }>;
  power: {
    source: string;
    link: string;
    ups: { status: string[]; chargePct: number | null; runtimeS: number | null } | null;
    since: number;
  } | null;
  edge: { online: boolean; bootId: string; lastSeen: number } | null;
  lastEvents: LiveEvent[];
}
export interface CenterConfig {
  name: string;
  capacity: number;
  zones: { id: string; name?: string; seats: number }[];
  seats: { id: string; zone: string }[];
}
/** server/src/sla/report.ts SlaReport (subset the UI reads). */
export interface Figures {
  availabilityPct: number | null;
  completenessPct: number | null;
  operatingMs: number;
  upMs: number;
  downMs: number;
  unknownMs: number;
  power: { availabilityPct: number | null };
  internet: { availabilityPct: number | null };
}
export interface SlaOutage {
  start: number;
  end: number;
  durationMs: number;
  cause: string;
  counted: "down" | "unknown";
}
export interface SlaCenterRow {
  centerId: string;
  name: string;
  all: Figures;
  excluding: Figures;
  outages: SlaOutage[];
  breaches: string[];
}
export interface SlaReport {
  month: string;
  targetPct: number;
  minCompletenessPct: number;
  coveredUntil: number;
  centers: SlaCenterRow[];
}

export const ALARM_DOOR_STATES = new Set(["forced_open", "held_open"]);
const ON_MAINS = new Set(["mains", "generator"]);

export type NetworkFilter = "all" | "offline" | "battery" | "breach";
export type SortKey = "center" | "online" | "power" | "people" | "seats" | "sla";

export interface NetworkRow extends CenterSummary {
  /** Serviceable availability month to date, with exclusions (the figure PSEB pays on); null: no evidence yet. */
  slaPct: number | null;
  /** Data completeness month to date (operating time with evidence). */
  slaCompletenessPct: number | null;
  slaTarget: number | null;
  /** The SLA report's breach flags: "availability" (below target), "completeness" (too little evidence). */
  slaBreaches: string[];
  breach: boolean;
  /** Why the row is highlighted: offline, never_seen, power, sla. */
  alerts: string[];
}

export function networkRows(centers: CenterSummary[], sla: SlaReport | null): NetworkRow[] {
  const byId = new Map((sla?.centers ?? []).map((c) => [c.centerId, c]));
  return centers.map((c) => {
    const s = byId.get(c.centerId);
    const slaPct = s?.excluding.availabilityPct ?? null;
    const alerts: string[] = [];
    if (c.edgeOnline === false) alerts.push("offline");
    if (c.edgeOnline === null) alerts.push("never_seen"); // configured (or known) but its edge has never reported
    if (c.powerSource !== null && !ON_MAINS.has(c.powerSource)) alerts.push("power");
    const slaBreaches = s?.breaches ?? [];
    if (slaBreaches.length > 0) alerts.push("sla");
    return {
      ...c,
      slaPct,
      slaCompletenessPct: s?.excluding.completenessPct ?? null,
      slaTarget: sla?.targetPct ?? null,
      slaBreaches,
      breach: slaBreaches.length > 0,
      alerts,
    };
  });
}

const POWER_RANK: Record<string, number> = { down: 0, low_battery: 1, battery: 2, unknown: 3, generator: 4, mains: 5 };

export function sortRows(rows: NetworkRow[], key: SortKey, dir: 1 | -1): NetworkRow[] {
  const val = (r: NetworkRow): number | string => {
    switch (key) {
      case "center":
        return (r.name ?? r.centerId).toLowerCase();
      case "online":
        return r.edgeOnline === null ? -1 : r.edgeOnline ? 1 : 0;
      case "power":
        return r.powerSource === null ? -1 : (POWER_RANK[r.powerSource] ?? -1);
      case "people":
        return r.peopleInCount;
      case "seats":
        return r.seatsTotal ? r.seatsOccupied / r.seatsTotal : -1;
      case "sla":
        return r.slaPct ?? -1;
    }
  };
  // Names compare naturally ("Center 9" before "Center 10"); ties keep the center-id order.
  const natural = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
  return [...rows].sort((a, b) => {
    const x = val(a);
    const y = val(b);
    if (typeof x === "string" && typeof y === "string") {
      const c = natural.compare(x, y);
      if (c !== 0) return c * dir;
    } else if (x < y) return -dir;
    else if (x > y) return dir;
    return a.centerId < b.centerId ? -1 : a.centerId > b.centerId ? 1 : 0;
  });
}

export function filterRows(rows: NetworkRow[], text: string, f: NetworkFilter): NetworkRow[] {
  const t = text.trim().toLowerCase();
  return rows.filter((r) => {
    if (t && !r.centerId.toLowerCase().includes(t) && !(r.name ?? "").toLowerCase().includes(t)) return false;
    if (f === "offline") return r.edgeOnline !== true;
    if (f === "battery") return r.powerSource !== null && !ON_MAINS.has(r.powerSource);
    if (f === "breach") return r.breach;
    return true;
  });
}

export interface FeedItem {
  seq: number;
  ts: number;
  who: string;
  memberId: string | null;
  cardId: string;
  direction: string;
  door: string;
  decision: "granted" | "denied";
  reason: string;
  flagged: boolean;
}

/** Badge events newest first, named from the member directory when known. */
export function feedItems(events: LiveEvent[], names: ReadonlyMap<string, string>): FeedItem[] {
  return events
    .filter((e) => e.type === "badge")
    .map((e) => {
      const memberId = typeof e.memberId === "string" ? e.memberId : null;
      const cardId = String(e.cardId ?? "");
      return {
        seq: e.seq,
        ts: e.ts,
        who: memberId ? (names.get(memberId) ?? memberId) : `#${cardId}`,
        memberId,
        cardId,
        direction: String(e.direction ?? ""),
        door: String(e.door ?? ""),
        decision: e.decision === "granted" ? "granted" : "denied",
        reason: String(e.reason ?? ""),
        flagged: e.flagged === true,
      } satisfies FeedItem;
    })
    .sort((a, b) => b.seq - a.seq);
}

export interface SeatTile {
  id: string;
  zone: string;
  state: "occupied" | "vacant" | "unknown" | "none";
}
/** Seats grouped by zone: configured seats first (so a silent sensor shows as "none"), then any reported extra. */
export function seatZones(live: CenterLive | null, config: CenterConfig | null): { zone: string; seats: SeatTile[] }[] {
  const tiles = new Map<string, SeatTile>();
  for (const s of config?.seats ?? []) tiles.set(s.id, { id: s.id, zone: s.zone, state: "none" });
  for (const [id, s] of Object.entries(live?.seats ?? {})) tiles.set(id, { id, zone: s.zone, state: s.state });
  const zones = new Map<string, SeatTile[]>();
  for (const t of [...tiles.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const z = zones.get(t.zone) ?? [];
    z.push(t);
    zones.set(t.zone, z);
  }
  return [...zones].sort(([a], [b]) => (a < b ? -1 : 1)).map(([zone, seats]) => ({ zone, seats }));
}

export interface Segment {
  start: number;
  end: number;
  state: string;
}
/** Step timeline from state-change rows (any order), clipped to [from, to). */
export function stepSegments(rows: { ts: number; state: string }[], from: number, to: number): Segment[] {
  const sorted = [...rows].sort((a, b) => a.ts - b.ts);
  const out: Segment[] = [];
  let cur: { start: number; state: string } | null = null;
  for (const r of sorted) {
    if (r.ts >= to) break;
    if (cur && cur.state === r.state) continue;
    if (cur) out.push({ start: Math.max(cur.start, from), end: Math.max(r.ts, from), state: cur.state });
    cur = { start: r.ts, state: r.state };
  }
  if (cur) out.push({ start: Math.max(cur.start, from), end: to, state: cur.state });
  return out.filter((s) => s.end > s.start);
}

/** Outages from raw timelines: power not on mains/generator, internet down. Used when the SLA service is absent. */
export function outagesFromTimelines(power: Segment[], uplink: Segment[]): SlaOutage[] {
  const out: SlaOutage[] = [];
  for (const s of power)
    if (!ON_MAINS.has(s.state) && s.state !== "unknown")
      out.push({ start: s.start, end: s.end, durationMs: s.end - s.start, cause: s.state === "battery" || s.state === "low_battery" ? "mains_cut" : "power_down", counted: "down" });
  for (const s of uplink)
    if (s.state === "down") out.push({ start: s.start, end: s.end, durationMs: s.end - s.start, cause: "internet", counted: "down" });
  return out.sort((a, b) => a.start - b.start);
}

/** RFC 4180 CSV: quote fields with comma, quote or newline; CRLF line ends. */
export function toCsv(header: string[], rows: (string | number | null)[][]): string {
  const q = (v: string | number | null) => {
    const s = v === null ? "" : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(q).join(",")).join("\r\n") + "\r\n";
}

export function fmtDuration(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, "0")} min`;
}

/** Pakistan Standard Time (UTC+5, no DST): what staff read on the wall clock. */
export function fmtTime(ts: number, withDate = false): string {
  const d = new Date(ts + 5 * 3_600_000);
  const hm = `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
  return withDate ? `${d.toISOString().slice(0, 10)} ${hm}` : hm;
}

export const pktMonth = (ts: number): string => new Date(ts + 5 * 3_600_000).toISOString().slice(0, 7);

export function monthRange(month: string): { from: number; to: number } {
  const [y, m] = month.split("-").map(Number) as [number, number];
  return { from: Date.UTC(y, m - 1, 1) - 5 * 3_600_000, to: Date.UTC(y, m, 1) - 5 * 3_600_000 };
}
