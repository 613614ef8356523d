import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import { buildApp } from "../app.ts";
import { createLoginLimiter } from "../auth/rate-limit.ts";
import { createLiveState } from "../live/state.ts";
import { createMetrics } from "../metrics.ts";
import { createCenterConfigStore, migrations as centerConfigMigrations } from "../registry/center-config.ts";
import { openRegistry } from "../registry/db.ts";
import { createMemberImporter } from "../registry/member-import.ts";
import { createMembersRegistry, migrations as memberMigrations } from "../registry/members.ts";
import { createUsersRegistry, migrations as userMigrations } from "../registry/users.ts";
import type { Caller } from "../registry/users.ts";
import { observeLive } from "../routes/stream.ts";
import { parseSlaConfig } from "./config.ts";

/** The report routes through buildApp with the real auth plugin and users registry; InfluxDB is a recorder. */
let app: FastifyInstance;
let dir: string;
const queries: string[] = [];
const tokens: Record<string, string> = {};
const now = Date.UTC(2026, 3, 2);

beforeAll(async () => {
  const clock = { now: () => now, mono: () => now };
  dir = mkdtempSync(path.join(os.tmpdir(), "hazri-reports-"));
  const db = openRegistry(path.join(dir, "registry.db"), [...memberMigrations, ...userMigrations, ...centerConfigMigrations]);
  const members = createMembersRegistry(db, { clock });
  const users = createUsersRegistry(db, { clock });
  const influx = {
    query: async (q: string) => {
      queries.push(q);
      return [];
    },
  };
  const live = observeLive(createLiveState());
  app = await buildApp({
    live,
    influx: { ping: async () => true },
    logger: silentLogger,
    metrics: createMetrics(),
    mqttConnected: () => true,
    api: {
      liveChanges: live,
      users,
      members,
      importer: createMemberImporter(members, { clock, logger: silentLogger, chunkRows: 100 }),
      centerConfig: createCenterConfigStore(db, { clock }),
      influx,
      memberCacheKeyPem: "-----BEGIN PUBLIC KEY-----\ntest\n-----END PUBLIC KEY-----\n",
      clock,
      loginLimiter: createLoginLimiter(clock),
      sseKeepaliveMs: 60_000,
    },
    reports: {
      influx,
      clock,
      sla: parseSlaConfig({ centers: { "isb-01": { name: "Islamabad" }, "lhr-01": {} } }),
      // Registered on the server: one never configured for the SLA, one disabled long before March.
      registeredCenters: () => [
        { id: "pew-07", name: "Peshawar", createdAt: 0, disabledAt: null },
        { id: "old-01", name: "Closed for good", createdAt: 0, disabledAt: Date.UTC(2025, 0, 1) },
      ],
    },
  });
  const users_: [string, Caller["role"], string[], string | null][] = [
    ["admin", "pseb_admin", [], null],
    ["staff-a", "center_staff", ["isb-01"], null],
    ["m1-user", "member", [], "m1"],
  ];
  for (const [u, role, centers, memberId] of users_) {
    db.prepare("INSERT INTO users (username, password_hash, role, centers, member_id, created_at) VALUES (?, 'x', ?, ?, ?, 0)").run(u, role, JSON.stringify(centers), memberId);
    tokens[u] = users.issueToken({ username: u, role, centers, memberId }, "session", { ttlMs: 3_600_000 }).token;
  }
});
afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (url: string, who?: string) => app.inject({ method: "GET", url, headers: who ? { authorization: `Bearer ${tokens[who]}` } : {} });

describe("GET /api/reports/*", () => {
  it("anonymous → 401, member → 403, staff asking for another center → 403", async () => {
    expect((await get("/api/reports/sla?month=2026-03")).statusCode).toBe(401);
    expect((await get("/api/reports/sla?month=2026-03", "m1-user")).statusCode).toBe(403);
    const r = await get("/api/reports/sla?month=2026-03&center=lhr-01", "staff-a");
    expect(r.statusCode).toBe(403);
    expect(r.json().error.code).toBe("API_FORBIDDEN");
  });

  it("staff see only their centers: every InfluxQL query is filtered to them", async () => {
    queries.length = 0;
    const r = await get("/api/reports/sla?month=2026-03", "staff-a");
    expect(r.statusCode).toBe(200);
    expect(r.json().centers.map((c: { centerId: string }) => c.centerId)).toEqual(["isb-01"]);
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) expect(q).toContain(`"center" = 'isb-01'`);
  });

  it("admin gets the league of every center, registered silent ones included; no data = all unknown (completeness 0), never up, flagged", async () => {
    const r = await get("/api/reports/sla?month=2026-03&format=json", "admin");
    const body = r.json();
    // pew-07 is only in the server's registry; old-01 was disabled before the month.
    expect(body.centers.map((c: { centerId: string }) => c.centerId).sort()).toEqual(["isb-01", "lhr-01", "pew-07"]);
    expect(body.centers.find((c: { centerId: string }) => c.centerId === "pew-07").name).toBe("Peshawar");
    for (const c of body.centers) {
      expect(c.all.completenessPct).toBe(0);
      expect(c.all.availabilityPct).toBeNull();
      expect(c.breaches).toEqual(["availability", "completeness", "no_data"]);
      expect(c.noData).toBe(true);
    }
    const html = await get("/api/reports/sla?month=2026-03&format=html", "admin");
    expect(html.body).toContain("Peshawar <span class=\"bad\">no data</span>");
    // Staff: their own centers only, never the registry's others.
    const staff = await get("/api/reports/sla?month=2026-03&format=json", "staff-a");
    expect(staff.json().centers.map((c: { centerId: string }) => c.centerId)).toEqual(["isb-01"]);
  });

  it("CSV and HTML with the right content types; bad month → 400", async () => {
    const csv = await get("/api/reports/sla?month=2026-03&format=csv", "admin");
    expect(csv.headers["content-type"]).toMatch(/^text\/csv/);
    expect(csv.headers["content-disposition"]).toContain("hazri-sla-2026-03.csv");
    expect(csv.body.split("\r\n")[0]).toMatch(/^rank,center,name/);
    const out = await get("/api/reports/sla?month=2026-03&format=csv&table=outages&center=isb-01", "admin");
    expect(out.body.split("\r\n")[1]).toMatch(/^isb-01,2026-03-01T04:00:00.000Z,2026-03-01T16:00:00.000Z,43200,edge_dark,unknown,/);
    const html = await get("/api/reports/occupancy?month=2026-03&format=html", "admin");
    expect(html.headers["content-type"]).toMatch(/^text\/html/);
    expect((await get("/api/reports/sla?month=2026-13", "admin")).statusCode).toBe(400);
    expect((await get("/api/reports/sla?month=2026-03&format=xml", "admin")).statusCode).toBe(400);
  });

  it("PDF through headless Chromium", async () => {
    const r = await get("/api/reports/sla?month=2026-03&format=pdf", "admin");
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toBe("application/pdf");
    expect(r.rawPayload.subarray(0, 5).toString()).toBe("%PDF-");
  }, 60_000);
});
