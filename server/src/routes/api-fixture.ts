import type { HazriEvent } from "../../../protocol/events.ts";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { silentLogger } from "../../../protocol/clock.ts";
import type { Clock } from "../../../protocol/clock.ts";
import { buildApp } from "../app.ts";
import { createLoginLimiter } from "../auth/rate-limit.ts";
import type { LimitOptions } from "../auth/rate-limit.ts";
import type { InfluxSeries } from "../influx/adapter.ts";
import { createLiveState } from "../live/state.ts";
import { createMetrics } from "../metrics.ts";
import { createCenterConfigStore, migrations as centerConfigMigrations } from "../registry/center-config.ts";
import { openRegistry } from "../registry/db.ts";
import { createMemberImporter } from "../registry/member-import.ts";
import { createMembersRegistry, migrations as memberMigrations } from "../registry/members.ts";
import { createUsersRegistry, migrations as userMigrations } from "../registry/users.ts";
import type { Caller } from "../registry/users.ts";
import { observeLive } from "./stream.ts";

/**
 * Test fixture (not production code): an app with the full API over a temp
 * registry, a scripted InfluxDB `query`, and ready tokens for each role:
 * admin, staff of isb-01 (staffA), staff of lhr-01 (staffB), members m1, m2.
 */
export async function makeApiApp(o: { limits?: LimitOptions; influxAnswer?: (q: string) => InfluxSeries[]; trustProxy?: boolean | string[] } = {}) {
  let now = Date.UTC(2026, 10, 20, 9, 0, 0);
  const clock: Clock & { set(ms: number): void } = { now: () => now, mono: () => now, set: (ms) => void (now = ms) };
  const dir = mkdtempSync(path.join(os.tmpdir(), "hazri-api-"));
  const db = openRegistry(path.join(dir, "registry.db"), [...memberMigrations, ...userMigrations, ...centerConfigMigrations]);
  const members = createMembersRegistry(db, { clock });
  const users = createUsersRegistry(db, { clock });
  const centerConfig = createCenterConfigStore(db, { clock });
  const importer = createMemberImporter(members, { clock, logger: silentLogger, chunkRows: 100 });
  // As startServer wires it: the live view reads zones and seats from the center config.
  const live = observeLive(createLiveState({ layout: (id) => centerConfig.get(id) }));
  const queries: string[] = [];
  const influx = {
    query: async (q: string) => {
      queries.push(q);
      return o.influxAnswer?.(q) ?? [];
    },
  };
  const app: FastifyInstance = await buildApp({
    ...(o.trustProxy !== undefined ? { trustProxy: o.trustProxy } : {}),
    live,
    influx: { ping: async () => true },
    logger: silentLogger,
    metrics: createMetrics(),
    mqttConnected: () => true,
    api: {
      liveChanges: live,
      users,
      members,
      importer,
      centerConfig,
      influx,
      memberCacheKeyPem: "-----BEGIN PUBLIC KEY-----\ntest\n-----END PUBLIC KEY-----\n",
      clock,
      loginLimiter: createLoginLimiter(clock, o.limits),
      sseKeepaliveMs: 60_000,
      sseAuthCheckMs: 100,
    },
  });
  const who = (username: string, role: Caller["role"], centers: string[] = [], memberId: string | null = null) => ({ username, role, centers, memberId });
  const tok = (w: ReturnType<typeof who>) => users.issueToken(w, "session", { ttlMs: 3_600_000 }).token;
  // The token's user must exist (tokens reference users).
  for (const [u, role, centers, memberId] of [
    ["admin", "pseb_admin", [], undefined],
    ["staff-a", "center_staff", ["isb-01"], undefined],
    ["staff-b", "center_staff", ["lhr-01"], undefined],
    ["m1-user", "member", [], "m1"],
    ["m2-user", "member", [], "m2"],
  ] as const)
    db.prepare("INSERT OR IGNORE INTO users (username, password_hash, role, centers, member_id, created_at) VALUES (?, 'x', ?, ?, ?, 0)").run(
      u,
      role,
      JSON.stringify(centers),
      memberId ?? null,
    );
  const tokens = {
    admin: tok(who("admin", "pseb_admin")),
    staffA: tok(who("staff-a", "center_staff", ["isb-01"])),
    staffB: tok(who("staff-b", "center_staff", ["lhr-01"])),
    m1: tok(who("m1-user", "member", [], "m1")),
    m2: tok(who("m2-user", "member", [], "m2")),
  };
  return { app, dir, db, clock, members, users, centerConfig, importer, live, queries, tokens };
}

export const auth = (token: string) => ({ authorization: `Bearer ${token}` });

/** A granted badge event for the API tests (live state, SSE). */
export const badge = (centerId: string, seq: number, memberId: string, direction: "in" | "out" = "in"): HazriEvent => ({
  v: 1,
  centerId,
  bootId: "boot-0001",
  seq,
  ts: 1_763_600_000_000 + seq,
  mono: seq,
  synced: true,
  type: "badge",
  door: "main",
  reader: "r1",
  direction,
  cardId: "A1",
  memberId,
  decision: "granted",
  reason: "ok",
  flagged: false,
});
