import path from "node:path";
import type { Clock, Logger } from "../../../protocol/clock.ts";
import { verifyMemberCache, type CacheMember, type MemberCacheMessage } from "../../../protocol/member-cache.ts";
import type { AccessMember } from "./decide.ts";
import type { MemberDirectory } from "./members.ts";
import { nodeCacheFs, readCacheFile, writeCacheFile, type CacheFs } from "./cache-file.ts";

/**
 * The edge's copy of the server's signed member cache (protocol/member-cache.ts).
 *
 * - Every message is verified (Ed25519, schema, our center) before anything
 *   changes; a message that does not verify is refused, logged and counted,
 *   and the last good cache stays in force.
 * - Versions: a full cache replaces everything (a multi-part full is built
 *   aside and swapped in when all parts are held); a delta applies only when
 *   its `baseVersion` equals our version. Otherwise (`gap`) the edge keeps
 *   deciding from what it has and asks for a full (`needsFull()`; the agent
 *   re-publishes its status with `wantFullCache`). A full OLDER than ours is
 *   refused: replaying an old signed cache must not un-revoke a card.
 * - Lookup by card is one Map get (O(1)) on the live maps; a message changes
 *   the maps synchronously, so a revocation applies to the very next tap.
 * - Persistence (cache-file.ts): written in the background, atomically (temp +
 *   fsync + rename + dir fsync); the door path never waits for it. A crash
 *   mid-write leaves the previous file (DA-4); `load()` at start.
 * - Staleness: `ageMs()` = now − last confirmation, where a confirmation is a
 *   verified message or `confirm()` (the agent calls it when the server acks
 *   while no full is pending: the server is alive and would have pushed any
 *   change). Persisted in a small sidecar so a reboot without WAN keeps it.
 */
export type ApplyOutcome = "installed" | "delta_applied" | "part_held" | "already_have" | "gap" | "rejected" | "ignored";

export interface MemberCacheCounters {
  installs: number;
  deltas: number;
  rejected: number;
  gaps: number;
  writes: number;
  writeFailures: number;
}

export interface MemberCacheStore {
  /** Load the persisted cache; false when there is none (or it is corrupt: logged). */
  load(): Promise<boolean>;
  directory: MemberDirectory;
  version(): number | null;
  handle(payload: Uint8Array | string): ApplyOutcome;
  confirm(): void;
  /** Milliseconds since the cache was last confirmed current; undefined when there is no cache. */
  ageMs(): number | undefined;
  needsFull(): boolean;
  /** Wait for pending writes (tests, shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly counters: MemberCacheCounters;
}

export interface MemberCacheOptions {
  file: string;
  centerId: string;
  publicKeyPem: string;
  clock: Clock;
  logger: Logger;
  fs?: CacheFs;
  /** Min interval between sidecar writes of the confirmation time (default 5 min). */
  confirmPersistMs?: number;
  /** Retry delay after a failed write (default 5 s). */
  retryMs?: number;
}

class Maps {
  readonly byCard = new Map<string, AccessMember>();
  readonly byId = new Map<string, AccessMember>();
  upsert(m: AccessMember): void {
    this.remove(m.id);
    this.byId.set(m.id, m);
    for (const c of m.cards) this.byCard.set(c.toUpperCase(), m);
  }
  remove(id: string): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    for (const c of old.cards) if (this.byCard.get(c.toUpperCase()) === old) this.byCard.delete(c.toUpperCase());
  }
}

// A million members share a handful of distinct dates/enums: intern them so
// each parsed copy ("2027-12-31" × 1M) does not cost its own string.
const interned = new Map<string, string>();
const intern = (s: string | undefined): string | undefined => {
  if (s === undefined) return undefined;
  const hit = interned.get(s);
  if (hit !== undefined) return hit;
  if (interned.size < 10_000) interned.set(s, s);
  return s;
};
export const toAccess = (m: CacheMember | AccessMember): AccessMember => {
  const out: AccessMember = { id: m.id, cards: m.cards, status: m.status, staff: m.staff };
  if (m.validFrom !== undefined) out.validFrom = intern(m.validFrom);
  if (m.validUntil !== undefined) out.validUntil = intern(m.validUntil);
  if (m.centers !== undefined) out.centers = m.centers;
  if (m.schedule !== undefined) out.schedule = m.schedule;
  return out;
};

export function createMemberCache(o: MemberCacheOptions): MemberCacheStore {
  const log = o.logger.child({ ns: "edge:members" });
  const fs = o.fs ?? nodeCacheFs;
  const sidecar = `${o.file}.confirmed`;
  const counters: MemberCacheCounters = { installs: 0, deltas: 0, rejected: 0, gaps: 0, writes: 0, writeFailures: 0 };
  let live = new Maps();
  let version: number | null = null;
  let confirmedAt: number | null = null;
  let gap = false;
  let pending: { version: number; count: number; got: Set<number>; maps: Maps } | null = null;
  let writing: Promise<void> = Promise.resolve();
  let dirty = false;
  let busy = false;
  let retry: NodeJS.Timeout | null = null;
  let lastSidecar = -Infinity;
  let closed = false;

  function scheduleWrite(): void {
    dirty = true;
    if (busy || closed) return;
    busy = true;
    writing = (async () => {
      while (dirty && !closed) {
        dirty = false;
        // Snapshot the references now: later messages replace member objects, never mutate them.
        const members = [...live.byId.values()];
        const header = { centerId: o.centerId, version: version ?? 0, confirmedAt: confirmedAt ?? o.clock.now() };
        try {
          await writeCacheFile(fs, o.file, header, members);
          counters.writes++;
          lastSidecar = -Infinity; // the header carries the confirmation now
        } catch (e) {
          counters.writeFailures++;
          log.error({ err: e, file: o.file }, "member cache write failed; last good file kept, will retry");
          if (!retry && !closed) {
            retry = setTimeout(() => {
              retry = null;
              scheduleWrite();
            }, o.retryMs ?? 5000);
            retry.unref?.();
          }
          break;
        }
      }
    })().finally(() => {
      busy = false;
    });
  }

  function persistConfirmation(): void {
    const now = o.clock.now();
    if (busy || version === null || now - lastSidecar < (o.confirmPersistMs ?? 300_000)) return;
    lastSidecar = now;
    const body = JSON.stringify({ version, confirmedAt });
    void fs.writeSmallAtomic(sidecar, body).catch((e: unknown) => log.warn({ err: e }, "cannot persist cache confirmation"));
  }

  function touch(): void {
    confirmedAt = o.clock.now();
  }

  function install(v: number, maps: Maps): void {
    live = maps;
    version = v;
    gap = false;
    pending = null;
    counters.installs++;
    touch();
    scheduleWrite();
    log.info({ version: v, members: maps.byId.size }, "member cache installed");
  }

  function reject(why: string, extra: Record<string, unknown> = {}): ApplyOutcome {
    counters.rejected++;
    log.warn({ why, ...extra }, "member cache message refused; keeping the last good cache");
    return "rejected";
  }

  function applyFull(m: MemberCacheMessage): ApplyOutcome {
    if (version !== null && m.version < version) return reject("older than the cache held", { got: m.version, have: version });
    if (version !== null && m.version === version) {
      pending = null;
      if (!gap) touch();
      return "already_have";
    }
    const count = m.part?.count ?? 1;
    const index = m.part?.index ?? 0;
    if (!pending || pending.version !== m.version || pending.count !== count) {
      pending = { version: m.version, count, got: new Set(), maps: new Maps() };
    }
    if (!pending.got.has(index)) {
      pending.got.add(index);
      for (const mem of m.members) pending.maps.upsert(toAccess(mem));
    }
    if (pending.got.size < count) return "part_held";
    install(m.version, pending.maps);
    return "installed";
  }

  function applyDelta(m: MemberCacheMessage): ApplyOutcome {
    if (version !== null && m.version <= version) {
      if (!gap) touch();
      return "already_have";
    }
    if (version === null || m.baseVersion !== version) {
      if (!gap) log.warn({ have: version, base: m.baseVersion, version: m.version }, "member cache delta does not fit; asking for a full");
      gap = true;
      counters.gaps++;
      return "gap";
    }
    for (const id of m.removed ?? []) live.remove(id);
    for (const mem of m.members) live.upsert(toAccess(mem));
    version = m.version;
    counters.deltas++;
    touch();
    scheduleWrite();
    log.info({ version: m.version, upserts: m.members.length, removed: m.removed?.length ?? 0 }, "member cache delta applied");
    return "delta_applied";
  }

  return {
    counters,
    directory: {
      lookupCard: (card) => live.byCard.get(card.toUpperCase()),
      size: () => live.byId.size,
    },
    version: () => version,
    needsFull: () => gap || version === null,
    ageMs: () => (confirmedAt === null ? undefined : Math.max(0, o.clock.now() - confirmedAt)),
    async load() {
      const r = await readCacheFile(fs, o.file).catch((e: unknown) => {
        log.error({ err: e, file: o.file }, "member cache file unreadable; starting without it");
        return null;
      });
      if (!r) return false;
      if (r.header.centerId !== o.centerId) {
        log.error({ file: o.file, centerId: r.header.centerId }, "member cache file belongs to another center; ignored");
        return false;
      }
      const maps = new Maps();
      for (const m of r.members) maps.upsert(toAccess(m));
      live = maps;
      version = r.header.version;
      confirmedAt = r.header.confirmedAt;
      const side = await fs.readSmall(sidecar).catch(() => null);
      if (side) {
        try {
          const s = JSON.parse(side) as { version?: unknown; confirmedAt?: unknown };
          if (s.version === version && typeof s.confirmedAt === "number") confirmedAt = Math.max(confirmedAt, s.confirmedAt);
        } catch {
          /* a torn sidecar only costs freshness */
        }
      }
      log.info({ version, members: maps.byId.size, confirmedAt }, "member cache loaded");
      return true;
    },
    handle(payload) {
      const text = typeof payload === "string" ? payload : Buffer.from(payload).toString("utf8");
      if (text.length === 0) return "ignored"; // the server clears the retained slot before a multi-part full
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return reject("not JSON");
      }
      // The server re-sends the full cache on every reconnect (1M members = 250
      // signed parts): a full claiming the version we already hold would be
      // ignored anyway, so skip the verification cost. Ignoring changes nothing,
      // and an unverified claim never counts as a confirmation.
      const claim = json as { full?: unknown; version?: unknown };
      if (claim.full === true && version !== null && claim.version === version && !gap) return "already_have";
      if (!verifyMemberCache(json, o.publicKeyPem)) return reject("signature or schema does not verify");
      const m = json as MemberCacheMessage;
      if (m.centerId !== o.centerId) return reject("other center", { centerId: m.centerId });
      return m.full ? applyFull(m) : applyDelta(m);
    },
    confirm() {
      if (gap || version === null) return;
      touch();
      persistConfirmation();
    },
    async flush() {
      await writing;
      await writing;
    },
    async close() {
      await writing;
      closed = true;
      if (retry) clearTimeout(retry);
      retry = null;
    },
  };
}

export const memberCacheFile = (dataDir: string): string => path.join(dataDir, "member-cache.ndjson");
