/**
 * The authenticated API and the member-cache sync on real components:
 * startServer with a registry (embedded aedes with per-center credentials,
 * InfluxDB 1.6.7), an MQTT.js client playing the isb-01 edge, HTTP via fetch.
 * - member cache: full on edge online, signed; a card revoked over the API is
 *   on the center's retained topic within the deadline (issue 5: ≤ 60 s);
 * - events / access log / member check-ins: InfluxQL against real InfluxDB,
 *   time-cursor pagination; staff of another center get 403.
 */
import type net from "node:net";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeDir, startInfluxd, waitFor, type InfluxInstance } from "./harness/index.ts";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import { verifyMemberCache, type MemberCacheMessage } from "../protocol/member-cache.ts";
import type { AckMessage } from "../protocol/messages.ts";
import { topics } from "../protocol/topics.ts";
import { openRegistry } from "../server/src/registry/db.ts";
import { createCenterStore, migrations as centerMigrations } from "../server/src/registry/centers.ts";
import { createUsersRegistry } from "../server/src/registry/users.ts";
import { startServer, type RunningServer } from "../server/src/server.ts";
import { membersApiMigrations } from "../server/src/sync/setup.ts";
import { CenterLiveSchema, EventsPageSchema } from "../server/src/routes/responses.ts";

const CENTER = "isb-01";
const REVOCATION_DEADLINE_MS = 60_000;

describe("server API + member cache on real aedes and InfluxDB", () => {
  let influx: InfluxInstance;
  let dir: string;
  let server: RunningServer | undefined;
  const clients: mqtt.MqttClient[] = [];
  let edgePassword = "";
  let base = "";

  beforeAll(async () => {
    influx = await startInfluxd();
    dir = await makeTempDir("hazri-api-it-");
    const file = path.join(dir, "registry.db");
    const db = openRegistry(file, [...centerMigrations, ...membersApiMigrations]);
    edgePassword = (await createCenterStore(db).createCenter(CENTER, "Islamabad 1")).password;
    await createCenterStore(db).createCenter("lhr-01", "Lahore 1");
    const users = createUsersRegistry(db, { clock: systemClock });
    await users.create({ username: "root", password: "root-password-1", role: "pseb_admin" });
    await users.create({ username: "lhr-staff", password: "staff-password-1", role: "center_staff", centers: ["lhr-01"] });
    await users.create({ username: "amna", password: "member-password-1", role: "member", memberId: "amna" });
    db.close();
    server = await startServer(
      {
        http: { host: "127.0.0.1", port: 0 },
        broker: { embedded: { host: "127.0.0.1", port: 0 } },
        influx: { kind: "v1", url: influx.url, database: "hazri_api_it", timeoutMs: 5_000 },
        ingest: { maxBatchDelayMs: 10 },
        registry: { path: file },
        live: { rebuild: false },
      },
      { logger: silentLogger, clock: systemClock },
    );
    base = server.httpUrl;
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    await server?.close();
    await influx?.stop();
    if (dir) await removeDir(dir);
  });

  const login = async (username: string, password: string) => {
    const r = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
    expect(r.status).toBe(200);
    return ((await r.json()) as { token: string }).token;
  };
  const api = async (token: string, method: string, url: string, body?: unknown) => {
    const r = await fetch(`${base}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> & { items?: Record<string, unknown>[] } };
  };
  /** The center's one MQTT identity: the broker requires client id `edge-<center>` (one session per center). */
  const edgeClient = async () => {
    if (clients[0]) return clients[0];
    if (!server) throw new Error("no server");
    const c = await mqtt.connectAsync(server.brokerUrl, { clientId: `edge-${CENTER}`, username: CENTER, password: edgePassword, clean: true });
    (c.stream as net.Socket).setNoDelay?.(true);
    clients.push(c);
    return c;
  };

  it("edge online → signed full cache; a revoked card is on the retained topic within the deadline", async () => {
    const keyRes = await fetch(`${base}/api/keys/member-cache`);
    const { publicKeyPem } = (await keyRes.json()) as { publicKeyPem: string };
    const admin = await login("root", "root-password-1");
    expect((await api(admin, "POST", "/api/members", { id: "amna", cards: ["0A0B0C0D0E"], centers: [CENTER] })).status).toBe(201);

    const edge = await edgeClient();
    const caches: MemberCacheMessage[] = [];
    edge.on("message", (topic, payload) => {
      if (topic === topics.down(CENTER, "members") && payload.length > 0) caches.push(JSON.parse(payload.toString()) as MemberCacheMessage);
    });
    await edge.subscribeAsync(topics.down(CENTER, "members"), { qos: 1 });
    await edge.publishAsync(topics.up(CENTER, "status"), JSON.stringify({ v: 1, centerId: CENTER, state: "online", bootId: "boot-api-it", ts: Date.now() }), { qos: 1, retain: true });
    const full = await waitFor(() => caches.find((c) => c.full && c.members.some((m) => m.id === "amna")), { timeoutMs: 15_000, what: "full member cache" });
    expect(verifyMemberCache(full, publicKeyPem)).toBe(true);
    expect(full.members.find((m) => m.id === "amna")?.cards).toEqual(["0A0B0C0D0E"]);

    const t0 = Date.now();
    expect((await api(admin, "DELETE", "/api/members/amna/cards/0A0B0C0D0E")).status).toBe(200);
    // A fresh subscription (as after the edge reconnects) gets the change from the retained message
    // (re-sent with the retain flag set, MQTT 3.1.1 §3.3.1.3; live forwards carry retain 0).
    const probe = edge;
    const retained: MemberCacheMessage[] = [];
    probe.on("message", (topic, payload, packet) => {
      if (topic === topics.down(CENTER, "members") && payload.length > 0 && packet.retain) retained.push(JSON.parse(payload.toString()) as MemberCacheMessage);
    });
    const after = await waitFor(
      async () => {
        retained.length = 0;
        await probe.unsubscribeAsync(topics.down(CENTER, "members"));
        await probe.subscribeAsync(topics.down(CENTER, "members"), { qos: 1 });
        const deadline = Date.now() + 500;
        while (retained.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        return retained.find((c) => c.members.some((m) => m.id === "amna" && m.cards.length === 0));
      },
      { timeoutMs: REVOCATION_DEADLINE_MS, what: "revocation on the retained member topic", intervalMs: 100 },
    );
    const took = Date.now() - t0;
    expect(took).toBeLessThan(REVOCATION_DEADLINE_MS);
    expect(verifyMemberCache(after, publicKeyPem)).toBe(true);
    expect(after).toMatchObject({ full: false, baseVersion: full.version });
    // The live edge got the same delta.
    await waitFor(() => caches.find((c) => !c.full && c.version === after.version), { timeoutMs: 5_000, what: "delta to the live edge" });
    console.log(`[timing] card revocation → retained member-cache delta: ${took} ms`);
  });

  it("events, access log with cursor pagination and member check-ins from real InfluxDB; staff of another center get 403", async () => {
    const edge = await edgeClient();
    const acks: AckMessage[] = [];
    edge.on("message", (topic, payload) => {
      if (topic === topics.down(CENTER, "ack")) acks.push(JSON.parse(payload.toString()) as AckMessage);
    });
    await edge.subscribeAsync(topics.down(CENTER, "ack"), { qos: 1 });
    const now = Date.now();
    const ev = (seq: number, ts: number, extra: Record<string, unknown>) => ({ v: 1, centerId: CENTER, bootId: "boot-api-it", seq, ts, mono: seq, synced: true, ...extra });
    const badge = (seq: number, ts: number, direction: "in" | "out", decision: "granted" | "denied") =>
      ev(seq, ts, { type: "badge", door: "main", reader: "r1", direction, cardId: "0A0B0C0D0E", memberId: "amna", decision, reason: decision === "granted" ? "ok" : "suspended", flagged: false });
    const events = [
      badge(1, now - 40 * 60_000, "in", "granted"),
      ev(2, now - 39 * 60_000, { type: "door", door: "main", state: "opened" }),
      badge(3, now - 10 * 60_000, "out", "granted"),
      badge(4, now - 5 * 60_000, "in", "denied"),
    ];
    await edge.publishAsync(topics.up(CENTER, "events"), JSON.stringify({ v: 1, centerId: CENTER, bootId: "boot-api-it", sentAt: now, events }), { qos: 1 });
    await waitFor(() => acks.find((a) => a.acked.length > 0), { timeoutMs: 15_000, what: "ack of the events" });
    expect(acks[0]?.acked).toEqual([[1, 4]]);

    const admin = await login("root", "root-password-1");
    const all = await api(admin, "GET", `/api/centers/${CENTER}/events`);
    expect(all.status).toBe(200);
    expect(all.body.items?.map((i) => [i.type, i.seq])).toEqual([["badge", 4], ["badge", 3], ["door", 2], ["badge", 1]]);
    expect(all.body.items?.[0]).toMatchObject({ centerId: CENTER, ts: now - 5 * 60_000, decision: "denied", member: "amna", door: "main" });

    const p1 = await api(admin, "GET", `/api/centers/${CENTER}/access-log?limit=2`);
    expect(p1.body.items?.map((i) => i.seq)).toEqual([4, 3]);
    const p2 = await api(admin, "GET", `/api/centers/${CENTER}/access-log?limit=2&cursor=${String(p1.body.nextCursor)}`);
    expect(p2.body.items?.map((i) => i.seq)).toEqual([1]);
    expect(p2.body.nextCursor).toBeNull();
    const denied = await api(admin, "GET", `/api/centers/${CENTER}/access-log?decision=denied&member=amna`);
    expect(denied.body.items?.map((i) => i.seq)).toEqual([4]);
    const doors = await api(admin, "GET", `/api/centers/${CENTER}/events?type=door&from=${new Date(now - 3_600_000).toISOString()}`);
    expect(doors.body.items?.map((i) => i.state)).toEqual(["opened"]);
    // The documented response schemas (OpenAPI, routes/responses.ts) hold for real bodies from real InfluxDB.
    for (const body of [all.body, p1.body, p2.body, denied.body, doors.body]) EventsPageSchema.parse(body);
    CenterLiveSchema.parse((await api(admin, "GET", `/api/centers/${CENTER}/live`)).body);

    const staff = await login("lhr-staff", "staff-password-1");
    for (const url of [`/api/centers/${CENTER}/events`, `/api/centers/${CENTER}/access-log`, `/api/centers/${CENTER}/live`])
      expect((await api(staff, "GET", url)).status).toBe(403);

    const amna = await login("amna", "member-password-1");
    const mine = await api(amna, "GET", "/api/me/checkins");
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ memberId: "amna", hours: 0.5, visits: [{ centerId: CENTER, in: now - 40 * 60_000, out: now - 10 * 60_000, hours: 0.5 }] });
    expect((await api(amna, "GET", `/api/centers/${CENTER}/events`)).status).toBe(403);
  });
});
