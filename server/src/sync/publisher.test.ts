import { mkdtempSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import { verifyMemberCache } from "../../../protocol/member-cache.ts";
import type { MemberCacheMessage } from "../../../protocol/member-cache.ts";
import { topics } from "../../../protocol/topics.ts";
import { openRegistry } from "../registry/db.ts";
import { createMembersRegistry, migrations } from "../registry/members.ts";
import { createMemberCachePublisher } from "./publisher.ts";
import { loadOrCreateSigningKey, SIGNING_KEY_FILE } from "./signing-key.ts";

const clock = { now: () => 1_763_700_000_000, mono: () => 0 };

async function make(opts: { maxPayloadBytes?: number; failFirst?: number; isActive?: (id: string) => boolean } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hazri-sync-"));
  const members = createMembersRegistry(openRegistry(path.join(dir, "r.db"), migrations), { clock });
  const key = await loadOrCreateSigningKey(dir);
  const retained = new Map<string, string>();
  const log: { topic: string; payload: string; retain: boolean }[] = [];
  let fail = opts.failFirst ?? 0;
  const pub = createMemberCachePublisher({
    members,
    privateKey: key.privateKey,
    publish: async (topic, payload, o) => {
      if (fail > 0) {
        fail--;
        throw new Error("broker down");
      }
      log.push({ topic, payload, retain: o.retain });
      if (o.retain) retained.set(topic, payload);
    },
    centers: () => ["isb-01", "lhr-01"],
    clock,
    logger: silentLogger,
    debounceMs: 1000,
    ...(opts.maxPayloadBytes ? { maxPayloadBytes: opts.maxPayloadBytes } : {}),
    ...(opts.isActive ? { isActive: opts.isActive } : {}),
  });
  const cache = (c: string) => JSON.parse(retained.get(topics.down(c, "members")) ?? "null") as MemberCacheMessage;
  return { dir, members, key, pub, retained, log, cache };
}

describe("member cache publisher", () => {
  afterEach(() => vi.useRealTimers());

  it("key is generated once, 0600, and reloaded", async () => {
    const { dir, key } = await make();
    expect(statSync(path.join(dir, SIGNING_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect((await loadOrCreateSigningKey(dir)).publicKeyPem).toBe(key.publicKeyPem);
  });

  it("full per center first, then a debounced signed delta; a revocation lands on the retained topic", async () => {
    vi.useFakeTimers();
    const { members, pub, key, cache } = await make();
    members.create({ id: "a", cards: ["A1"], centers: ["lhr-01"] });
    members.create({ id: "b", cards: ["B1"], centers: "all" });
    await vi.advanceTimersByTimeAsync(1000);
    expect(cache("lhr-01")).toMatchObject({ full: true, version: 2, members: [{ id: "a" }, { id: "b" }] });
    expect(cache("isb-01").members.map((m) => m.id)).toEqual(["b"]);
    expect(verifyMemberCache(cache("lhr-01"), key.publicKeyPem)).toBe(true);

    members.revokeCard("a", "A1");
    await vi.advanceTimersByTimeAsync(999);
    expect(cache("lhr-01").version).toBe(2); // still debouncing
    await vi.advanceTimersByTimeAsync(1);
    const d = cache("lhr-01");
    expect(d).toMatchObject({ full: false, baseVersion: 2, version: 3, members: [{ id: "a", cards: [] }] });
    expect(verifyMemberCache(d, key.publicKeyPem)).toBe(true);
    expect(cache("isb-01").version).toBe(2); // nothing changed there: no message
    await pub.close();
  });

  it("edge reconnect → full cache again; failures retry and then send a full", async () => {
    vi.useFakeTimers();
    const { members, pub, cache, log } = await make({ failFirst: 1 });
    members.create({ id: "a", cards: ["A1"] });
    await vi.advanceTimersByTimeAsync(1000); // isb-01 fails, lhr-01 goes
    expect(cache("isb-01")).toBeNull();
    await vi.advanceTimersByTimeAsync(1000);
    expect(cache("isb-01")).toMatchObject({ full: true, version: 1 });
    const n = log.length;
    pub.edgeOnline("lhr-01");
    await vi.advanceTimersByTimeAsync(1000);
    expect(log.slice(n)).toEqual([expect.objectContaining({ topic: topics.down("lhr-01", "members"), retain: true })]);
    expect(cache("lhr-01").full).toBe(true);
    await pub.close();
  });

  it("a big full cache is split in signed parts under the size limit; the retained slot is cleared", async () => {
    const { members, pub, log, key } = await make({ maxPayloadBytes: 4096 });
    members.upsertMany(Array.from({ length: 300 }, (_, i) => ({ id: `m${String(i).padStart(4, "0")}`, cards: [(0x1000 + i).toString(16).toUpperCase()] })));
    await pub.flush();
    const mine = log.filter((l) => l.topic === topics.down("lhr-01", "members"));
    expect(mine[0]).toEqual({ topic: mine[0]?.topic, payload: "", retain: true });
    const parts = mine.slice(1).map((l) => JSON.parse(l.payload) as MemberCacheMessage);
    expect(parts.length).toBeGreaterThan(5);
    for (const [i, p] of parts.entries()) {
      expect(p.part).toEqual({ index: i, count: parts.length });
      expect(verifyMemberCache(p, key.publicKeyPem)).toBe(true);
      expect(Buffer.byteLength(mine[i + 1]?.payload ?? "")).toBeLessThanOrEqual(4096);
    }
    expect(parts.flatMap((p) => p.members.map((m) => m.id))).toHaveLength(300);
    expect(mine.slice(1).every((l) => !l.retain)).toBe(true);
    await pub.close();
  });
  it("a full cache over several registry pages: the event loop (and registry writes) run during the build", async () => {
    const { members, pub, log } = await make();
    const N = 12_000;
    const t0 = performance.now();
    members.upsertMany(Array.from({ length: N }, (_, i) => ({ id: `p${String(i).padStart(6, "0")}`, centers: ["lhr-01"] })));
    const v0 = members.version();
    // Runs at the build's first yield: with an open SQLite iterator this write would fail as "connection busy".
    let wrote = false;
    setImmediate(() => {
      members.create({ id: "zz-during-build", centers: ["lhr-01"] });
      wrote = true;
    });
    await pub.flush();
    expect(wrote).toBe(true);
    const full = log.filter((l) => l.topic === topics.down("lhr-01", "members") && l.payload !== "").map((l) => JSON.parse(l.payload) as MemberCacheMessage);
    expect(full.length).toBeGreaterThan(1); // over 512 KiB: parts
    expect(full.every((p) => p.version === v0 && p.part?.count === full.length)).toBe(true);
    const ids = full.flatMap((p) => p.members.map((m) => m.id));
    expect(ids.slice(0, N)).toEqual(Array.from({ length: N }, (_, i) => `p${String(i).padStart(6, "0")}`));
    console.log(`[timing] ${N}-member full cache built, signed, published: ${Math.round(performance.now() - t0)} ms`);
    // The write made during the build reaches the edge as the next delta.
    await pub.flush();
    const last = JSON.parse(log[log.length - 1]?.payload ?? "null") as MemberCacheMessage;
    expect(last).toMatchObject({ full: false, baseVersion: v0 });
    expect(last.members.map((m) => m.id)).toContain("zz-during-build");
    await pub.close();
  });

  it("inactive (unknown or disabled) centers get nothing: no full on their 'online', no deltas; re-enabled → a full", async () => {
    vi.useFakeTimers();
    const active = new Set(["isb-01"]);
    const { members, pub, log } = await make({ isActive: (id) => active.has(id) });
    members.create({ id: "a", cards: ["A1"], centers: "all" });
    pub.edgeOnline("lhr-01"); // its edge claims to be online (a retained status, say)
    pub.edgeOnline("ghost-9"); // never registered
    await vi.advanceTimersByTimeAsync(1000);
    members.update("a", { status: "suspended" });
    await vi.advanceTimersByTimeAsync(1000);
    const topicsSent = new Set(log.map((l) => l.topic));
    expect(topicsSent).toEqual(new Set([topics.down("isb-01", "members")]));
    expect(pub.sentVersion("lhr-01")).toBeUndefined();
    active.add("lhr-01"); // enabled again
    pub.edgeOnline("lhr-01");
    await vi.advanceTimersByTimeAsync(1000);
    expect(log.filter((l) => l.topic === topics.down("lhr-01", "members")).map((l) => (JSON.parse(l.payload) as MemberCacheMessage).full)).toEqual([true]);
    await pub.close();
  });
});
