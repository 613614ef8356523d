import type net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { HazriEvent } from "../../../protocol/events.ts";
import { auth, badge, makeApiApp } from "./api-fixture.ts";
import {
  CenterConfigResponseSchema, CenterLiveSchema, CentersListSchema, MemberSchema, MembersPageSchema, NetworkLiveSchema,
} from "./responses.ts";

type Fixture = Awaited<ReturnType<typeof makeApiApp>>;
let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.app.close();
  fx = undefined;
});

const CONFIG = {
  name: "Islamabad 1",
  capacity: 40,
  zones: [{ id: "z1", seats: 2 }],
  seats: [{ id: "s1", zone: "z1" }],
  hours: { day: { open: "08:00", close: "20:00" } },
};

async function seeded() {
  fx = await makeApiApp();
  fx.members.create({ id: "a1", cards: ["A1"], centers: ["isb-01"] });
  fx.members.create({ id: "b1", cards: ["B1"], centers: ["lhr-01"] });
  fx.members.create({ id: "m1", cards: ["C1"], centers: "all" });
  fx.members.create({ id: "m2", cards: ["C2"], centers: "all" });
  fx.centerConfig.put("isb-01", { ...CONFIG, atCapacity: "deny" }, "test");
  fx.centerConfig.put("lhr-01", { ...CONFIG, name: "Lahore 1", atCapacity: "deny" }, "test");
  fx.live.apply(badge("isb-01", 1, "a1"));
  fx.live.apply(badge("lhr-01", 1, "b1"));
  return fx;
}

type Who = "admin" | "staffA" | "staffB" | "m1" | "none";
interface Case {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  body?: unknown;
  /** Expected status per caller; "2xx" = any success. */
  expect: Partial<Record<Who, number | "2xx">>;
}

// Center isb-01 is staffA's; staffB (lhr-01) and members must get nothing of it.
const MATRIX: Case[] = [
  { method: "GET", url: "/api/centers/isb-01", expect: { admin: "2xx", staffA: "2xx", staffB: 403, m1: 403, none: 401 } },
  { method: "GET", url: "/api/centers/isb-01/live", expect: { admin: "2xx", staffA: "2xx", staffB: 403, m1: 403, none: 401 } },
  { method: "GET", url: "/api/centers/isb-01/events", expect: { admin: "2xx", staffA: "2xx", staffB: 403, m1: 403, none: 401 } },
  { method: "GET", url: "/api/centers/isb-01/access-log?decision=granted", expect: { admin: "2xx", staffA: "2xx", staffB: 403, m1: 403, none: 401 } },
  { method: "GET", url: "/api/members?center=isb-01", expect: { admin: "2xx", staffA: "2xx", staffB: 403, m1: 403, none: 401 } },
  { method: "GET", url: "/api/members/a1", expect: { admin: "2xx", staffA: "2xx", staffB: 404, m1: 404, none: 401 } },
  { method: "POST", url: "/api/members/a1/suspend", expect: { staffB: 404, m1: 403, none: 401, staffA: "2xx" } },
  { method: "POST", url: "/api/members/a1/activate", expect: { staffB: 404, m1: 403, none: 401, admin: "2xx" } },
  { method: "DELETE", url: "/api/members/a1/cards/A1", expect: { staffB: 404, m1: 403, none: 401, staffA: "2xx" } },
  { method: "GET", url: "/api/stream?center=isb-01", expect: { staffB: 403, none: 401 } },
  { method: "PUT", url: "/api/centers/isb-01", body: CONFIG, expect: { admin: "2xx", staffA: 403, staffB: 403, m1: 403, none: 401 } },
  { method: "POST", url: "/api/members", body: { id: "x9" }, expect: { staffA: 403, m1: 403, none: 401, admin: 201 } },
  { method: "PATCH", url: "/api/members/b1", body: { name: "B" }, expect: { staffA: 403, staffB: 403, m1: 403, none: 401, admin: "2xx" } },
  { method: "POST", url: "/api/members/b1/cards", body: { card: "B2" }, expect: { staffB: 403, m1: 403, none: 401, admin: 201 } },
  { method: "DELETE", url: "/api/members/x9", expect: { staffA: 403, m1: 403, none: 401, admin: "2xx" } },
  { method: "GET", url: "/api/members/import/imp_0123456789abcdef", expect: { staffA: 403, m1: 403, none: 401, admin: 404 } },
  { method: "POST", url: "/api/users", body: { username: "u1", password: "long-enough-pw", role: "pseb_admin" }, expect: { staffA: 403, m1: 403, none: 401 } },
  { method: "GET", url: "/api/users", expect: { admin: "2xx", staffA: 403, m1: 403, none: 401 } },
  { method: "DELETE", url: "/api/users/m2-user", expect: { staffA: 403, m1: 403, none: 401 } },
  { method: "GET", url: "/api/members/m1", expect: { m1: "2xx", none: 401 } },
  { method: "GET", url: "/api/members/m2", expect: { m1: 404, staffA: "2xx" } },
  { method: "GET", url: "/api/me/checkins", expect: { m1: "2xx", admin: 403, staffA: 403, none: 401 } },
  { method: "GET", url: "/api/centers", expect: { m1: 403, none: 401 } },
  { method: "GET", url: "/api/live", expect: { m1: 403, none: 401 } },
  { method: "POST", url: "/api/tokens", body: { name: "ci" }, expect: { none: 401, m1: 201 } },
  { method: "GET", url: "/api/auth/me", expect: { none: 401, m1: "2xx" } },
];

describe("API role matrix", () => {
  it("every route answers each role as declared; nothing of another center or member leaks", async () => {
    const f = await seeded();
    const failures: string[] = [];
    for (const c of MATRIX)
      for (const [who, want] of Object.entries(c.expect) as [Who, number | "2xx"][]) {
        const r = await f.app.inject({
          method: c.method,
          url: c.url,
          headers: who === "none" ? {} : auth(f.tokens[who]),
          ...(c.body !== undefined ? { payload: c.body as object } : {}),
        });
        const ok = want === "2xx" ? r.statusCode >= 200 && r.statusCode < 300 : r.statusCode === want;
        if (!ok) failures.push(`${c.method} ${c.url} as ${who}: ${r.statusCode} (want ${want}) ${r.body.slice(0, 200)}`);
        if (r.statusCode >= 400) {
          const e = r.json().error;
          if (!e?.code || /\bat .*\.ts:\d+/.test(r.body)) failures.push(`${c.method} ${c.url} as ${who}: bad error body ${r.body}`);
          if (r.body.includes("isb-01") && who === "staffB" && !c.url.includes("isb-01")) failures.push(`leak: ${r.body}`);
        }
      }
    expect(failures).toEqual([]);
  });

  it("network views are limited to the caller's centers", async () => {
    const f = await seeded();
    const b = await f.app.inject({ url: "/api/centers", headers: auth(f.tokens.staffB) });
    expect(b.json().centers.map((c: { centerId: string }) => c.centerId)).toEqual(["lhr-01"]);
    const live = await f.app.inject({ url: "/api/live", headers: auth(f.tokens.staffB) });
    expect(live.json()).toMatchObject({ totals: { centers: 1, peopleIn: 1 }, centers: [{ centerId: "lhr-01", name: "Lahore 1" }] });
    const all = await f.app.inject({ url: "/api/live", headers: auth(f.tokens.admin) });
    expect(all.json().totals).toMatchObject({ centers: 2, peopleIn: 2, edgesNeverSeen: 2 });
    const list = await f.app.inject({ url: "/api/members", headers: auth(f.tokens.staffB) });
    expect(list.json().members.map((m: { id: string }) => m.id)).toEqual(["b1", "m1", "m2"]);
  });
});

describe("live: zones and seats from the center config", () => {
  it("seatsTotal and per-zone occupied/total come from the configured seats, not only the seats seen", async () => {
    const f = await seeded();
    f.centerConfig.put(
      "isb-01",
      { ...CONFIG, zones: [{ id: "z1", name: "Hall", seats: 3 }, { id: "z2", seats: 2 }], seats: [{ id: "s1", zone: "z1" }, { id: "s2", zone: "z2" }], atCapacity: "deny" },
      "test",
    );
    const seat = (seq: number, id: string, zone: string, state: "occupied" | "vacant"): HazriEvent => ({
      v: 1, centerId: "isb-01", bootId: "boot-0001", seq, ts: 1_763_600_000_000 + seq, mono: seq, synced: true, type: "seat", seat: id, zone, state, source: "mqtt",
    });
    const live = async () => (await f.app.inject({ url: "/api/centers/isb-01/live", headers: auth(f.tokens.admin) })).json();
    // No seat event yet: the configured totals already show.
    expect(await live()).toMatchObject({ seatsOccupied: 0, seatsTotal: 5, zones: { z1: { name: "Hall", occupied: 0, total: 3 }, z2: { name: null, occupied: 0, total: 2 } } });
    f.live.apply(seat(10, "s1", "z1", "occupied"));
    f.live.apply(seat(11, "s2", "z2", "vacant"));
    // A sensor the config does not list, in a zone it does not know: counted, in its own zone.
    f.live.apply(seat(12, "s9", "z9", "occupied"));
    const l = await live();
    expect(l).toMatchObject({ seatsOccupied: 2, seatsTotal: 6 });
    expect(l.zones).toEqual({ z1: { name: "Hall", occupied: 1, total: 3 }, z2: { name: null, occupied: 0, total: 2 }, z9: { name: null, occupied: 1, total: 1 } });
    // A configured center with no live data at all yet.
    f.centerConfig.put("pew-01", { ...CONFIG, name: "Peshawar 1", atCapacity: "deny" }, "test");
    const net = (await f.app.inject({ url: "/api/live", headers: auth(f.tokens.admin) })).json();
    // lhr-01 (no seat events) and pew-01 (no events) still count their 2 configured seats each.
    expect(net.totals).toMatchObject({ seatsOccupied: 2, seatsTotal: 6 + 2 + 2 });
    expect(net.centers.find((c: { centerId: string }) => c.centerId === "lhr-01")).toMatchObject({ seatsTotal: 2 });
    expect(net.centers.find((c: { centerId: string }) => c.centerId === "pew-01")).toMatchObject({ seatsTotal: 2, seatsOccupied: 0 });
  });
});

describe("auth", () => {
  it("login → token that works; wrong password 401; rate limit 429 with Retry-After", async () => {
    fx = await makeApiApp({ limits: { ipMax: 100, pairFailMax: 2, windowMs: 60_000 } });
    await fx.users.create({ username: "root", password: "correct horse battery", role: "pseb_admin" });
    const bad = await fx.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "root", password: "nope-nope-nope" } });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().error.code).toBe("API_UNAUTHORIZED");
    const ok = await fx.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "root", password: "correct horse battery" } });
    expect(ok.statusCode).toBe(200);
    const { token, role } = ok.json();
    expect(role).toBe("pseb_admin");
    expect((await fx.app.inject({ url: "/api/auth/me", headers: auth(token) })).json()).toMatchObject({ username: "root", tokenKind: "session" });
    for (let i = 0; i < 2; i++)
      await fx.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "root", password: `wrong-${i}-xxxx` } });
    const limited = await fx.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "root", password: "correct horse battery" } });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe("API_RATE_LIMITED");
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    fx.clock.set(fx.clock.now() + 61_000);
    const later = await fx.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "root", password: "correct horse battery" } });
    expect(later.statusCode).toBe(200);
    const out = await fx.app.inject({ method: "POST", url: "/api/auth/logout", headers: auth(token) });
    expect(out.json()).toEqual({ revoked: true });
    expect((await fx.app.inject({ url: "/api/auth/me", headers: auth(token) })).statusCode).toBe(401);
  });

  it("behind a trusted proxy the limit keys on X-Forwarded-For; from anyone else the header is ignored", async () => {
    for (const trusted of [true, false]) {
      fx = await makeApiApp({ limits: { ipMax: 1000, pairFailMax: 3, windowMs: 60_000, globalSlowAfter: 1000, slowIntervalMs: 1, maxDelayMs: 1_000 }, ...(trusted ? { trustProxy: ["10.0.0.2"] } : {}) });
      await fx.users.create({ username: "root", password: "correct horse battery", role: "pseb_admin" });
      const login = (client: string, password: string) =>
        fx!.app.inject({ method: "POST", url: "/api/auth/login", remoteAddress: "10.0.0.2", headers: { "x-forwarded-for": client }, payload: { username: "root", password } });
      for (let i = 0; i < 3; i++) expect((await login("203.0.113.66", `guess-${i}-xxxx`)).statusCode).toBe(401);
      expect((await login("203.0.113.66", "correct horse battery")).statusCode).toBe(429);
      // Trusted proxy: another client behind it is another address. Untrusted: everyone is the proxy, locked out.
      expect({ trusted, status: (await login("198.51.100.7", "correct horse battery")).statusCode }).toEqual({ trusted, status: trusted ? 200 : 429 });
      await fx.app.close();
      fx = undefined;
    }
  });

  it("failures from one IP lock that (username, IP) only: the admin still logs in from their own IP; a guess campaign is slowed, not locked", async () => {
    fx = await makeApiApp({ limits: { ipMax: 1000, pairFailMax: 5, windowMs: 60_000, globalSlowAfter: 8, slowIntervalMs: 30, maxDelayMs: 1_000 } });
    await fx.users.create({ username: "root", password: "correct horse battery", role: "pseb_admin" });
    const login = (ip: string, password: string, username = "root") =>
      fx!.app.inject({ method: "POST", url: "/api/auth/login", remoteAddress: ip, payload: { username, password } });
    for (let i = 0; i < 5; i++) expect((await login("203.0.113.66", `guess-${i}-xxxx`)).statusCode).toBe(401);
    // The attacker's IP is locked out of "root" (even with the right password) ...
    const locked = await login("203.0.113.66", "correct horse battery");
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
    // ... but the admin, from their own IP, is not: the DoS of old (5 failures locked the account for everyone) is gone.
    expect((await login("198.51.100.7", "correct horse battery")).statusCode).toBe(200);
    // Many IPs guessing at once (more than globalSlowAfter failures): every attempt now waits for a global slot.
    for (let i = 0; i < 4; i++) expect((await login(`192.0.2.${i + 1}`, `guess-x-${i}`)).statusCode).toBe(401);
    const started = performance.now();
    const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => login(`192.0.2.${50 + i}`, `guess-y-${i}`)));
    expect(burst.map((r) => r.statusCode)).toEqual(Array(6).fill(401));
    // Six attempts through one slot every 30 ms: at least 5 intervals in total (a lower bound: load only adds).
    expect(performance.now() - started).toBeGreaterThanOrEqual(5 * 30 - 5);
    // The admin is slowed too, never refused for their username.
    expect((await login("198.51.100.7", "correct horse battery")).statusCode).toBe(200);
  });

  it("admin lists and deletes users; a deleted user's tokens stop working", async () => {
    const f = await seeded();
    const list = await f.app.inject({ url: "/api/users", headers: auth(f.tokens.admin) });
    expect(list.json().users.map((u: { username: string }) => u.username)).toEqual(["admin", "m1-user", "m2-user", "staff-a", "staff-b"]);
    expect((await f.app.inject({ method: "DELETE", url: "/api/users/admin", headers: auth(f.tokens.admin) })).statusCode).toBe(409);
    expect((await f.app.inject({ method: "DELETE", url: "/api/users/staff-b", headers: auth(f.tokens.admin) })).statusCode).toBe(200);
    expect((await f.app.inject({ url: "/api/centers", headers: auth(f.tokens.staffB) })).statusCode).toBe(401);
    expect((await f.app.inject({ method: "DELETE", url: "/api/users/staff-b", headers: auth(f.tokens.admin) })).statusCode).toBe(404);
  });

  it("API tokens are never wider than their creator", async () => {
    const f = await seeded();
    const wider = await f.app.inject({ method: "POST", url: "/api/tokens", headers: auth(f.tokens.staffA), payload: { name: "x", role: "pseb_admin" } });
    expect(wider.statusCode).toBe(403);
    const other = await f.app.inject({ method: "POST", url: "/api/tokens", headers: auth(f.tokens.staffA), payload: { name: "x", centers: ["lhr-01"] } });
    expect(other.statusCode).toBe(403);
    const t = await f.app.inject({ method: "POST", url: "/api/tokens", headers: auth(f.tokens.admin), payload: { name: "ops", role: "center_staff", centers: ["lhr-01"] } });
    expect(t.statusCode).toBe(201);
    const r = await f.app.inject({ url: "/api/centers/isb-01/live", headers: auth(t.json().token) });
    expect(r.statusCode).toBe(403);
    expect((await f.app.inject({ url: "/api/auth/me", headers: auth(t.json().token) })).json()).toMatchObject({ tokenKind: "api", centers: ["lhr-01"] });
  });
});

describe("API behaviour", () => {
  it("bad parameters → 400 API_BAD_REQUEST with details, never a stack", async () => {
    const f = await seeded();
    const r = await f.app.inject({ url: "/api/centers/isb-01/events?limit=0&type=nope", headers: auth(f.tokens.admin) });
    expect(r.statusCode).toBe(400);
    const e = r.json().error;
    expect(e.code).toBe("API_BAD_REQUEST");
    expect(e.details.map((d: { path: string }) => d.path).sort()).toEqual(["limit", "type.0"]);
    const put = await f.app.inject({ method: "PUT", url: "/api/centers/isb-01", headers: auth(f.tokens.admin), payload: { ...CONFIG, seats: [{ id: "s1", zone: "zz" }] } });
    expect(put.statusCode).toBe(400);
    expect(put.json().error.details[0]).toMatchObject({ in: "body", path: "seats.0.zone" });
    const json = await f.app.inject({ method: "POST", url: "/api/members", headers: { ...auth(f.tokens.admin), "content-type": "application/json" }, payload: "{nope" });
    expect(json.statusCode).toBe(400);
    expect(json.json().error.code).toBe("API_BAD_REQUEST");
    expect(json.body).not.toMatch(/node_modules|\.ts:\d/);
    const card = await f.app.inject({ method: "POST", url: "/api/members/b1/cards", headers: auth(f.tokens.admin), payload: { card: "not-hex" } });
    expect(card.statusCode).toBe(400);
    expect(card.json().error).toMatchObject({ code: "API_BAD_REQUEST", details: [expect.objectContaining({ message: expect.stringContaining("hex") })] });
    const dup = await f.app.inject({ method: "POST", url: "/api/members", headers: auth(f.tokens.admin), payload: { id: "a1" } });
    expect(dup.statusCode).toBe(409);
  });

  it("events: newest first, filters, time-cursor pagination", async () => {
    const series = (q: string) => {
      const before = /time < (\d+)/.exec(q)?.[1] ?? "0";
      const rows = [
        ["2025-11-20T01:33:20.000000003Z", "main", "A1", "isb-01", "granted", "in", "a1", 3],
        ["2025-11-20T01:33:20.000000002Z", "main", "A1", "isb-01", "granted", "out", "a1", 2],
        ["2025-11-20T01:33:20.000000001Z", "main", "A1", "isb-01", "granted", "in", "a1", 1],
      ].filter((r) => BigInt(Date.parse(String(r[0]).slice(0, 19) + "Z")) * 1_000_000n + BigInt(String(r[0]).slice(20, 29)) < BigInt(before));
      const limit = Number(/LIMIT (\d+)/.exec(q)?.[1]);
      return [{ name: "access", columns: ["time", "door", "card", "center", "decision", "direction", "member", "seq"], values: rows.slice(0, limit) }];
    };
    fx = await makeApiApp({ influxAnswer: series });
    const p1 = await fx.app.inject({ url: "/api/centers/isb-01/access-log?limit=2&member=a1&from=2025-01-01T00:00:00Z", headers: auth(fx.tokens.staffA) });
    expect(p1.statusCode).toBe(200);
    const b1 = p1.json();
    expect(b1.items.map((i: { seq: number }) => i.seq)).toEqual([3, 2]);
    expect(b1.items[0]).toMatchObject({ type: "badge", centerId: "isb-01", ts: 1_763_602_400_000, direction: "in", member: "a1" });
    expect(fx.queries[0]).toContain(`"center" = 'isb-01'`);
    expect(fx.queries[0]).toContain(`"member" = 'a1'`);
    const p2 = await fx.app.inject({ url: `/api/centers/isb-01/access-log?limit=2&from=2025-01-01T00:00:00Z&cursor=${b1.nextCursor}`, headers: auth(fx.tokens.staffA) });
    expect(p2.json()).toEqual({ items: [expect.objectContaining({ seq: 1 })], nextCursor: null });
    const ev = await fx.app.inject({ url: "/api/centers/isb-01/events?type=badge,door", headers: auth(fx.tokens.staffA) });
    expect(ev.statusCode).toBe(200);
    expect(fx.queries[2]).toMatch(/FROM "access","door" WHERE/);
    const inj = await fx.app.inject({ url: `/api/centers/isb-01/access-log?member=${encodeURIComponent("x' OR '1'='1")}`, headers: auth(fx.tokens.staffA) });
    expect(inj.statusCode).toBe(200);
    expect(fx.queries[3]).toContain(`"member" = 'x\\' OR \\'1\\'=\\'1'`);
  });

  it("GET /api/me/checkins: own visits and hours of the month", async () => {
    fx = await makeApiApp({
      influxAnswer: () => [
        {
          name: "access",
          columns: ["time", "center", "direction", "member", "seq"],
          values: [
            ["2026-11-02T04:00:00Z", "isb-01", "in", "m1", 1],
            ["2026-11-02T06:30:00Z", "isb-01", "out", "m1", 2],
            ["2026-11-03T04:00:00Z", "isb-01", "in", "m1", 3],
          ],
        },
      ],
    });
    const r = await fx.app.inject({ url: "/api/me/checkins", headers: auth(fx.tokens.m1) });
    expect(r.json()).toMatchObject({ memberId: "m1", month: "2026-11", hours: 2.5, visits: [{ hours: 2.5 }, { out: null, hours: 0 }] });
    expect(fx.queries[0]).toContain(`"member" = 'm1'`);
    expect(fx.queries[0]).toContain(`time >= ${BigInt(Date.UTC(2026, 10, 1) - 5 * 3_600_000) * 1_000_000n}`);
  });

  it("CSV import: 202 with an id, progress and per-row errors", async () => {
    const f = await seeded();
    const csv = "id,cards,centers\nn1,D1,isb-01\nn2,zz,all\nn3,D3;D4,all\n";
    const r = await f.app.inject({ method: "POST", url: "/api/members/import", headers: { ...auth(f.tokens.admin), "content-type": "text/csv" }, payload: csv });
    expect(r.statusCode).toBe(202);
    const { id } = r.json();
    const deadline = Date.now() + 5000;
    let s = (await f.app.inject({ url: `/api/members/import/${id}`, headers: auth(f.tokens.admin) })).json();
    while (s.state === "running" && Date.now() < deadline) {
      await new Promise((res) => setImmediate(res));
      s = (await f.app.inject({ url: `/api/members/import/${id}`, headers: auth(f.tokens.admin) })).json();
    }
    expect(s).toMatchObject({ state: "done", rowsDone: 3, rowsTotal: 3, ok: 2, failed: 1, errors: [{ row: 3, column: "cards" }] });
    expect(f.members.get("n3")?.cards).toEqual(["D3", "D4"]);
    const noBody = await f.app.inject({ method: "POST", url: "/api/members/import", headers: auth(f.tokens.admin), payload: { a: 1 } });
    expect(noBody.statusCode).toBe(400);
  });

  it("OpenAPI document and /docs list every route", async () => {
    const f = await seeded();
    const doc = (await f.app.inject({ url: "/docs/openapi.json" })).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/centers/{id}/events", "/api/members/import", "/api/stream", "/api/auth/login"]));
    expect(doc.paths["/api/centers/{id}/events"].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(["id", "type", "from", "to", "limit", "cursor"]),
    );
    // Response schemas of the main routes (routes/responses.ts), output side, under the success status.
    const ok = (p: string, m: string, status = "200") => doc.paths[p][m].responses[status].content["application/json"].schema;
    expect(ok("/api/centers/{id}/live", "get").properties).toHaveProperty("zones");
    expect(ok("/api/centers/{id}/live", "get").required).toEqual(expect.arrayContaining(["peopleIn", "seatsTotal", "lastEvents"]));
    expect(ok("/api/centers", "get").properties.centers.items.properties).toHaveProperty("seatsTotal");
    expect(ok("/api/live", "get").properties.totals.properties).toHaveProperty("edgesOnline");
    expect(ok("/api/centers/{id}", "get").properties.config.properties).toHaveProperty("zones");
    expect(ok("/api/centers/{id}/events", "get").properties.items.items.required).toEqual(["type", "ts", "centerId", "seq", "cursor"]);
    expect(ok("/api/centers/{id}/access-log", "get").properties).toHaveProperty("nextCursor");
    expect(ok("/api/members", "get").properties.members.items.properties).toHaveProperty("revokedCards");
    expect(ok("/api/members", "post", "201").properties).toHaveProperty("cards");
    expect(ok("/api/members/{id}/cards/{card}", "delete").properties).toHaveProperty("revokedCards");
    // And they hold for the real bodies (strict: a field the schema does not know fails).
    const get = async (url: string) => (await f.app.inject({ url, headers: auth(f.tokens.admin) })).json();
    f.live.setEdgeStatus({ v: 1, centerId: "isb-01", state: "online", bootId: "boot-0001", ts: 1_763_600_000_000 });
    f.live.apply({ v: 1, centerId: "isb-01", bootId: "boot-0001", seq: 9, ts: 1_763_600_000_009, mono: 9, synced: true, type: "seat", seat: "s1", zone: "z1", state: "occupied", source: "mqtt" });
    f.live.apply({ v: 1, centerId: "isb-01", bootId: "boot-0001", seq: 10, ts: 1_763_600_000_010, mono: 10, synced: true, type: "power", source: "battery", link: "ok", device: "ups1", ups: { status: ["OB"], chargePct: 80, runtimeS: 600, batteryV: 25, inputV: null, outputV: 230, loadPct: 20, tempC: null } });
    CenterLiveSchema.parse(await get("/api/centers/isb-01/live"));
    CentersListSchema.parse(await get("/api/centers"));
    NetworkLiveSchema.parse(await get("/api/live"));
    CenterConfigResponseSchema.parse(await get("/api/centers/isb-01"));
    MembersPageSchema.parse(await get("/api/members"));
    MemberSchema.parse(await get("/api/members/a1"));
    const html = await f.app.inject({ url: "/docs" });
    expect(html.headers["content-type"]).toMatch(/text\/html/);
    expect(html.body).toContain("/api/members/:id/cards/:card");
    expect((await f.app.inject({ url: "/api/keys/member-cache" })).json()).toMatchObject({ algorithm: "ed25519" });
  });
});

describe("CSV import over real HTTP", () => {
  it("a multi-megabyte body streams into the importer; 202 first, progress until done", async () => {
    const f = await seeded();
    await f.app.listen({ host: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${(f.app.server.address() as net.AddressInfo).port}`;
    const N = 30_000;
    const rows = Array.from({ length: N }, (_, i) => `imp${i},Member number ${i} with a long enough name,${(0x200000 + i).toString(16).toUpperCase()},isb-01;lhr-01`);
    const body = `id,name,cards,centers\n${rows.join("\n")}\n`;
    expect(body.length).toBeGreaterThan(1_500_000); // above fastify's default 1 MiB body limit: the stream is not buffered
    const r = await fetch(`${url}/api/members/import`, { method: "POST", headers: { ...auth(f.tokens.admin), "content-type": "text/csv" }, body });
    expect(r.status).toBe(202);
    const { id } = (await r.json()) as { id: string };
    const deadline = Date.now() + 30_000;
    let s: { state: string; ok: number; rowsDone: number } = { state: "running", ok: 0, rowsDone: 0 };
    while (s.state === "running") {
      if (Date.now() > deadline) throw new Error(`import not done: ${JSON.stringify(s)}`);
      s = (await (await fetch(`${url}/api/members/import/${id}`, { headers: auth(f.tokens.admin) })).json()) as typeof s;
      if (s.state === "running") await new Promise((res) => setTimeout(res, 20));
    }
    expect(s).toMatchObject({ state: "done", ok: N, rowsDone: N });
    expect(f.members.get(`imp${N - 1}`)?.centers).toEqual(["isb-01", "lhr-01"]);
  });
});
