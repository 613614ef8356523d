import { z } from "zod";
import type { Clock } from "../../../protocol/clock.ts";
import { DeviceId } from "../../../protocol/ids.ts";
import type { Migration, RegistryDb } from "./db.ts";

/**
 * Center configuration as the API edits it (name, seats, zones, operating
 * hours, capacity). Stored as one validated JSON document per center; the
 * center's credentials live elsewhere (broker ACL, another module).
 */
export const migrations: Migration[] = [
  {
    id: "center-config-001-create",
    sql: `CREATE TABLE center_config (center_id TEXT PRIMARY KEY, config TEXT NOT NULL, updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL);`,
  },
];

const Hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected HH:MM (24 h)");
export const CenterConfig = z
  .object({
    name: z.string().min(1).max(200),
    capacity: z.number().int().min(0).max(100_000),
    /** What the edge does at capacity (issue 3). */
    atCapacity: z.enum(["deny", "allow_and_flag"]).default("deny"),
    zones: z.array(z.object({ id: DeviceId, name: z.string().max(200).optional(), seats: z.number().int().min(0).max(10_000) }).strict()).max(500),
    seats: z.array(z.object({ id: DeviceId, zone: DeviceId }).strict()).max(10_000),
    /** Local time (PKT). Day and night shifts as the edge's schedules use them. */
    hours: z
      .object({ day: z.object({ open: Hhmm, close: Hhmm }).strict(), night: z.object({ open: Hhmm, close: Hhmm }).strict().optional() })
      .strict(),
    /**
     * Daily cut-off for automatic check-out (local time, the server's live.timeZone). Absent: the server's
     * `live.checkoutAt` (default 04:00, after the night shift). Configs saved before this was optional
     * carry the old default "23:59".
     */
    autoCheckoutAt: Hhmm.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const zones = new Set(c.zones.map((z) => z.id));
    c.seats.forEach((s, i) => {
      if (!zones.has(s.zone)) ctx.addIssue({ code: "custom", path: ["seats", i, "zone"], message: `unknown zone ${s.zone}` });
    });
  });
export type CenterConfig = z.output<typeof CenterConfig>;

export interface CenterConfigStore {
  get(centerId: string): (CenterConfig & { updatedAt: number; updatedBy: string }) | null;
  put(centerId: string, config: CenterConfig, by: string): void;
  ids(): string[];
}

/** How long a config read is reused (the live view reads it per center per request); put() invalidates at once. */
export const CONFIG_TTL_MS = 10_000;

export function createCenterConfigStore(db: RegistryDb, deps: { clock: Clock }): CenterConfigStore {
  const get = db.prepare("SELECT config, updated_at, updated_by FROM center_config WHERE center_id = ?");
  const put = db.prepare(`INSERT INTO center_config (center_id, config, updated_at, updated_by) VALUES (?, ?, ?, ?)
    ON CONFLICT(center_id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at, updated_by = excluded.updated_by`);
  const ids = db.prepare("SELECT center_id FROM center_config ORDER BY center_id").pluck();
  type Row = (CenterConfig & { updatedAt: number; updatedBy: string }) | null;
  const cache = new Map<string, { at: number; row: Row }>();
  return {
    get(centerId) {
      const now = deps.clock.now();
      const c = cache.get(centerId);
      if (c && now - c.at < CONFIG_TTL_MS && now >= c.at) return c.row;
      const r = get.get(centerId) as { config: string; updated_at: number; updated_by: string } | undefined;
      const row: Row = r ? { ...(JSON.parse(r.config) as CenterConfig), updatedAt: r.updated_at, updatedBy: r.updated_by } : null;
      if (cache.size >= 100_000) cache.clear();
      cache.set(centerId, { at: now, row });
      return row;
    },
    put(centerId, config, by) {
      put.run(centerId, JSON.stringify(config), deps.clock.now(), by);
      cache.delete(centerId);
    },
    ids: () => ids.all() as string[],
  };
}
