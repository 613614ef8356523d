import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import { signMemberCache, type CacheMember, type MemberCacheUnsigned } from "../../../protocol/member-cache.ts";
import { createMemberCache, type MemberCacheStore } from "./member-cache.ts";
import { nodeCacheFs, type CacheFs } from "./cache-file.ts";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
const other = generateKeyPairSync("ed25519").privateKey;
let t = 1_763_700_000_000;
const clock = { now: () => t, mono: () => 0 };
const C = "lhr-01";
const mem = (id: string, card: string, over: Partial<CacheMember> = {}): CacheMember => ({ id, cards: [card], status: "active", staff: false, ...over });
const full = (version: number, members: CacheMember[], over: Partial<MemberCacheUnsigned> = {}, key = privateKey) =>
  JSON.stringify(signMemberCache({ v: 1, centerId: C, version, issuedAt: t, full: true, members, ...over }, key));
const delta = (baseVersion: number, version: number, members: CacheMember[], removed?: string[]) =>
  JSON.stringify(signMemberCache({ v: 1, centerId: C, version, issuedAt: t, full: false, baseVersion, members, ...(removed ? { removed } : {}) }, privateKey));

let dir: string;
let file: string;
const stores: MemberCacheStore[] = [];
const make = (fs?: CacheFs) => {
  const s = createMemberCache({ file, centerId: C, publicKeyPem: pem, clock, logger: silentLogger, retryMs: 60_000, ...(fs ? { fs } : {}) });
  stores.push(s);
  return s;
};
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "hazri-mcache-"));
  file = path.join(dir, "member-cache.ndjson");
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("member cache: verify, versions", () => {
  it("refuses what does not verify and keeps the last good cache", () => {
    const s = make();
    expect(s.handle(full(5, [mem("a", "AA01")]))).toBe("installed");
    const tampered = JSON.parse(full(6, [mem("a", "AA01")]));
    tampered.members[0].status = "suspended";
    expect(s.handle(JSON.stringify(tampered))).toBe("rejected");
    expect(s.handle(full(7, [], {}, other))).toBe("rejected"); // wrong key
    expect(s.handle("not json")).toBe("rejected");
    expect(s.handle(JSON.stringify({ ...JSON.parse(full(8, [])), centerId: "khi-01" }))).toBe("rejected");
    expect(s.handle(JSON.stringify(signMemberCache({ v: 1, centerId: "khi-01", version: 9, issuedAt: t, full: true, members: [] }, privateKey)))).toBe("rejected");
    expect(s.handle(full(4, []))).toBe("rejected"); // older full: no rollback (an old signed cache must not un-revoke)
    expect(s.counters.rejected).toBe(6);
    expect(s.version()).toBe(5);
    expect(s.directory.lookupCard("aa01")?.id).toBe("a");
    expect(s.handle("")).toBe("ignored"); // the server clears the retained slot before a multi-part full
    // A full at the version held (the server re-sends one on every reconnect) is not re-verified,
    // changes nothing and does not count as a confirmation.
    t += 5000;
    expect(s.handle(JSON.stringify({ ...JSON.parse(full(5, [])), signature: "AAAA" }))).toBe("already_have");
    expect(s.directory.lookupCard("AA01")?.id).toBe("a");
    expect(s.ageMs()).toBe(5000);
  });

  it("deltas apply by version; a gap asks for a full and the full heals it", () => {
    const s = make();
    expect(s.needsFull()).toBe(true); // nothing yet
    s.handle(full(5, [mem("a", "AA01"), mem("b", "BB01")]));
    expect(s.needsFull()).toBe(false);
    expect(s.handle(delta(5, 6, [mem("a", "AA02", { status: "suspended" })], ["b"]))).toBe("delta_applied");
    expect(s.directory.lookupCard("AA01")).toBeUndefined(); // the old card of an upserted member is gone
    expect(s.directory.lookupCard("AA02")?.status).toBe("suspended");
    expect(s.directory.lookupCard("BB01")).toBeUndefined();
    expect(s.handle(delta(5, 6, []))).toBe("already_have"); // retained re-delivery
    expect(s.handle(delta(7, 8, [mem("c", "CC01")]))).toBe("gap");
    expect(s.needsFull()).toBe(true);
    expect(s.directory.lookupCard("CC01")).toBeUndefined();
    expect(s.directory.size()).toBe(1); // still deciding from version 6
    expect(s.handle(full(8, [mem("c", "CC01")]))).toBe("installed");
    expect(s.needsFull()).toBe(false);
    expect(s.directory.lookupCard("AA02")).toBeUndefined();
    expect(s.counters).toMatchObject({ installs: 2, deltas: 1, gaps: 1 });
  });

  it("multi-part full is installed only when every part is held", () => {
    const s = make();
    s.handle(full(3, [mem("x", "EE01")]));
    expect(s.handle(full(4, [mem("a", "AA01")], { part: { index: 1, count: 2 } }))).toBe("part_held");
    expect(s.directory.lookupCard("EE01")?.id).toBe("x"); // old cache in force meanwhile
    expect(s.directory.lookupCard("AA01")).toBeUndefined();
    expect(s.handle(full(4, [mem("b", "BB01")], { part: { index: 0, count: 2 } }))).toBe("installed");
    expect([s.directory.lookupCard("AA01")?.id, s.directory.lookupCard("BB01")?.id, s.directory.lookupCard("EE01")]).toEqual(["a", "b", undefined]);
  });

  it("staleness: age grows without confirmation; messages and confirm() reset it, not while a full is pending", () => {
    const s = make();
    expect(s.ageMs()).toBeUndefined();
    s.handle(full(1, []));
    t += 1000;
    expect(s.ageMs()).toBe(1000);
    s.confirm();
    expect(s.ageMs()).toBe(0);
    s.handle(delta(5, 6, []));
    t += 500;
    s.confirm();
    expect(s.ageMs()).toBe(500); // gap: the server being alive does not make an incomplete cache current
  });
});

describe("member cache: persistence", () => {
  it("written atomically, loaded at start with version, members and confirmation", async () => {
    const s = make();
    s.handle(full(5, [mem("a", "AA01", { schedule: "night", centers: ["lhr-01"] }), mem("b", "BB01")]));
    s.handle(delta(5, 6, [mem("c", "CC01")], ["b"]));
    await s.flush();
    expect(existsSync(`${file}.tmp`)).toBe(false);
    const s2 = make();
    t += 10_000;
    expect(await s2.load()).toBe(true);
    expect(s2.version()).toBe(6);
    expect(s2.directory.lookupCard("AA01")).toMatchObject({ id: "a", schedule: "night", centers: ["lhr-01"] });
    expect(s2.directory.lookupCard("BB01")).toBeUndefined();
    expect(s2.directory.lookupCard("CC01")?.id).toBe("c");
    expect(s2.ageMs()).toBe(10_000);
  });

  it("a failing write (disk full mid-file) leaves the last good file; the new state is retried", async () => {
    const s0 = make();
    s0.handle(full(1, [mem("a", "AA01")]));
    await s0.flush();
    const good = readFileSync(file);
    let failWrites = true;
    let writes = 0;
    const failing: CacheFs = {
      ...nodeCacheFs,
      async create(f) {
        const h = await nodeCacheFs.create(f);
        return { ...h, write: async (c) => (failWrites && ++writes === 2 ? Promise.reject(Object.assign(new Error("ENOSPC"), { code: "ENOSPC" })) : h.write(c)) };
      },
    };
    const s = make(failing);
    await s.load();
    s.handle(full(2, [mem("b", "BB01")]));
    await s.flush();
    expect(s.counters.writeFailures).toBe(1);
    expect(readFileSync(file)).toEqual(good); // the last good version, byte for byte
    expect(existsSync(`${file}.tmp`)).toBe(false);
    expect(s.directory.lookupCard("BB01")?.id).toBe("b"); // in memory the new cache is in force
    failWrites = false;
    s.handle(delta(2, 3, []));
    await s.flush();
    const s2 = make();
    await s2.load();
    expect(s2.version()).toBe(3);
  });

  it("a torn or corrupt file is refused at load (start without it, never with a wrong one)", async () => {
    const s = make();
    s.handle(full(1, [mem("a", "AA01"), mem("b", "BB01")]));
    await s.flush();
    const size = readFileSync(file).length;
    truncateSync(file, size - 10);
    expect(await make().load()).toBe(false);
    const s2 = make();
    s2.handle(full(1, [mem("a", "AA01")]));
    await s2.flush();
    writeFileSync(file, readFileSync(file, "utf8").replace('"AA01"', '"AA02"'));
    const s3 = make();
    expect(await s3.load()).toBe(false);
    expect(s3.directory.size()).toBe(0);
  });
});
