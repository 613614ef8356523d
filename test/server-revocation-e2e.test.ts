/**
 * Revocation end to end (issue 5: "a revocation reaches the door within 60 s"):
 * `startServer` with the member registry, the REAL edge agent process
 * (`hazri edge`, memberCache verified with the server's public key from
 * GET /api/keys/member-cache), a simulated RDM6300 on a socat pty and an LCUS
 * relay on another. A card granted at the door is revoked through the API
 * (DELETE /api/members/:id/cards/:card); the next taps are denied within the
 * 60 s requirement bound. The measured time is printed (a figure, not a
 * timing assertion: the bound is the requirement).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import type { BadgeEvent } from "../protocol/events.ts";
import { SimCardReader } from "../firmware-sim/src/devices/rdm6300.ts";
import { SimRelay } from "../firmware-sim/src/devices/relay.ts";
import { startServer, type RunningServer } from "../server/src/server.ts";
import { openRegistry } from "../server/src/registry/db.ts";
import { createCenterStore, migrations as centerMigrations } from "../server/src/registry/centers.ts";
import { createUsersRegistry } from "../server/src/registry/users.ts";
import { membersApiMigrations } from "../server/src/sync/setup.ts";
import {
  makeTempDir, removeDir, spawnManaged, startInfluxd, startPtyPair, waitFor,
  type InfluxInstance, type ManagedProcess, type PtyPair,
} from "./harness/index.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const C = "rev-01";
const CARD = "62E3086CED";
const MEMBER = "m-rev-1";
const ADMIN = { username: "admin", password: "admin-password-1" };
/** > the edge's RDM6300 presentation gap (removeAfterMs 500 ms, §1.3): each tap is a new presentation. */
const BETWEEN_TAPS_MS = 800;

describe("revoking a card through the API denies it at a real edge's door", () => {
  let influx: InfluxInstance;
  let server: RunningServer | undefined;
  let edge: ManagedProcess | undefined;
  let dir: string;
  const ptys: PtyPair[] = [];
  let reader: SimCardReader | undefined;
  let relay: SimRelay | undefined;

  beforeAll(async () => {
    influx = await startInfluxd();
    dir = await makeTempDir("hazri-revoke-e2e");
  });
  afterAll(async () => {
    await edge?.stop("SIGTERM", 10_000).catch(() => {});
    await reader?.close().catch(() => {});
    await relay?.close().catch(() => {});
    for (const p of ptys) await p.stop().catch(() => {});
    await server?.close().catch(() => {});
    await influx?.stop();
    if (dir) await removeDir(dir);
  });

  it("granted, then DELETE card via the API → the next tap is denied within 60 s", async () => {
    const registry = path.join(dir, "registry.sqlite");
    const db = openRegistry(registry, [...centerMigrations, ...membersApiMigrations]);
    const centerPassword = (await createCenterStore(db, { scrypt: { N: 1024, r: 8, p: 1 } }).createCenter(C)).password;
    await createUsersRegistry(db, { clock: systemClock }).create({ ...ADMIN, role: "pseb_admin" });
    db.close();
    server = await startServer(
      {
        http: { host: "127.0.0.1", port: 0 },
        broker: { embedded: { host: "127.0.0.1", port: 0 } },
        influx: { kind: "v1", url: influx.url, database: "hazri_revoke" },
        ingest: { maxBatchDelayMs: 5 },
        registry: { path: registry },
      },
      { logger: silentLogger, clock: systemClock },
    );
    const s = server;
    const api = async (method: string, url: string, token: string | null, body?: unknown) => {
      const r = await fetch(`${s.httpUrl}${url}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const login = await api("POST", "/api/auth/login", null, ADMIN);
    expect(login.status).toBe(200);
    const token = login.body.token as string;
    expect((await api("POST", "/api/members", token, { id: MEMBER, centers: "all", schedule: "24x7", cards: [CARD] })).status).toBe(201);
    const key = await api("GET", "/api/keys/member-cache", null);

    // The center: an RDM6300 and an LCUS relay on socat ptys, the real edge agent process.
    const edgeDir = path.join(dir, "edge");
    mkdirSync(edgeDir, { recursive: true });
    const rfid = await startPtyPair({ dir: edgeDir, name: "rfid-main" });
    const rel = await startPtyPair({ dir: edgeDir, name: "relay-main" });
    ptys.push(rfid, rel);
    relay = await SimRelay.open({ path: rel.devicePath });
    reader = await SimCardReader.open({ path: rfid.devicePath });
    writeFileSync(path.join(edgeDir, "members.yaml"), "members: []\n");
    writeFileSync(path.join(edgeDir, "cache.pub"), key.body.publicKeyPem as string);
    const cfg = path.join(edgeDir, "center.yaml");
    writeFileSync(
      cfg,
      [
        `center: ${C}`,
        "dataDir: ./data",
        `uplink: { url: "${s.brokerUrl}", username: ${C}, password: "${centerPassword}", heartbeatS: 30, resendAfterMs: 2000 }`,
        "lan: { host: 127.0.0.1, port: 0 }",
        "members: ./members.yaml",
        "memberCache: { publicKeyFile: ./cache.pub }",
        `doors: [{ id: main, relay: { path: "${rel.hostPath}" }, unlockMs: 300 }]`,
        `readers: [{ id: main-in, type: rdm6300, door: main, direction: in, path: "${rfid.hostPath}" }]`,
        "",
      ].join("\n"),
    );
    edge = await spawnManaged(process.execPath, ["--import", "tsx", path.join(ROOT, "edge/src/cli.ts"), "edge", "--config", cfg], {
      name: `edge-${C}`,
      cwd: ROOT,
    });
    const e = edge;
    await waitFor(() => s.live.center(C)?.edge?.online || null, { timeoutMs: 60_000, what: `edge online (log: ${e.logTail(5)})` });

    // Badges as the server stored them (acked after the InfluxDB write), in outbox order.
    const badges = (): BadgeEvent[] =>
      (s.live.center(C)?.lastEvents ?? []).filter((x): x is BadgeEvent => x.type === "badge").sort((a, b) => a.seq - b.seq);
    const tap = async (): Promise<BadgeEvent> => {
      const n = badges().length;
      await reader?.tap(CARD, { holdMs: 100 });
      const b = await waitFor(() => badges()[n], { timeoutMs: 20_000, what: `badge #${n + 1} at the server (edge log: ${e.logTail(5)})` });
      await new Promise((r) => setTimeout(r, BETWEEN_TAPS_MS)); // card away: the next tap is a new presentation
      return b;
    };
    // The full cache reaches the edge when it comes online; until then the card is unknown there.
    const granted = await waitFor(async () => ((await tap()).decision === "granted" ? true : null), { timeoutMs: 30_000, what: "card granted at the door" });
    expect(granted).toBe(true);

    const t0 = performance.now();
    const del = await api("DELETE", `/api/members/${MEMBER}/cards/${CARD}`, token);
    expect(del.status).toBe(200);
    expect(del.body.revokedCards).toContain(CARD);
    let denied: BadgeEvent | null = null;
    let taps = 0;
    while (!denied && performance.now() - t0 < 60_000) {
      const b = await tap();
      taps++;
      if (b.decision === "denied") denied = b;
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(`revocation via API → denied tap at the edge: ${seconds.toFixed(1)} s (${taps} taps)`);
    expect(denied, "revocation did not reach the door within 60 s").not.toBeNull();
    expect(denied).toMatchObject({ decision: "denied", cardId: CARD });
    expect(seconds).toBeLessThan(60);
    // Denied for good: the next tap too.
    expect((await tap()).decision).toBe("denied");
  });
});
