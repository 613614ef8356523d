import { sign as edSign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import type { Clock, Logger } from "../../../protocol/clock.ts";
import { canonicalJson, signMemberCache } from "../../../protocol/member-cache.ts";
import type { MemberCacheMessage, MemberCacheUnsigned } from "../../../protocol/member-cache.ts";
import { MAX_PAYLOAD_BYTES } from "../../../protocol/messages.ts";
import { topics } from "../../../protocol/topics.ts";
import { allowedAt } from "../registry/members.ts";
import type { MembersRegistry } from "../registry/members.ts";

/**
 * Publishes each center's signed member cache on `down/members` (QoS 1).
 *
 * - On a registry change: after `debounceMs` (≤ 5 s, default 1 s; the first
 *   change starts the timer, later ones ride along) every known center gets a
 *   delta from the version it was last sent — or a full cache when it has none
 *   yet or the delta would not fit in one message. A revocation therefore
 *   reaches the edge topic within debounce + publish time, far under 60 s.
 * - On edge (re)connect (`edgeOnline`): a full cache at the current version.
 * - Retained: a single-part message (full or delta) is published retained so
 *   an edge that subscribes gets the newest state at once (MQTT 3.1.1
 *   §3.3.1.3). A full cache above `maxPayloadBytes` goes out in parts, not
 *   retained (a retained message holds one part only); the retained slot is
 *   cleared first (empty retained payload) so no stale cache lingers there.
 * A failed publish (broker down) keeps the center pending and retries after
 * `debounceMs`; nothing is marked sent before the broker's PUBACK.
 */
export interface PublisherDeps {
  members: MembersRegistry;
  privateKey: KeyObject;
  publish(topic: string, payload: string, opts: { retain: boolean }): Promise<void>;
  /** Every center that should get a cache (config, members' named centers, edges seen). */
  centers(): string[];
  /**
   * When set (the registry governs centers), a center that is unknown or disabled gets nothing: no full
   * cache on its "online", no deltas — its member list is not sent to a topic nobody may legitimately read.
   */
  isActive?: (centerId: string) => boolean;
  clock: Clock;
  logger: Logger;
  debounceMs?: number;
  maxPayloadBytes?: number;
}

export interface MemberCachePublisher {
  edgeOnline(centerId: string): void;
  /** Publish pending changes now (tests, shutdown). */
  flush(): Promise<void>;
  /** Version last confirmed published to a center. */
  sentVersion(centerId: string): number | undefined;
  /** Build (not publish) the signed full cache for a center: the parts, in order. */
  buildFull(centerId: string): Promise<MemberCacheMessage[]>;
  close(): Promise<void>;
}

/** Room left for the envelope (ids, versions, signature) around the members of a part. */
const ENVELOPE_BYTES = 1024;
/** Members read per registry query while building a full cache; the event loop runs between pages. */
const PAGE = 5_000;

interface Snapshot {
  version: number;
  rows: { centers: string[] | "all"; canon: string; bytes: number }[];
}

export function createMemberCachePublisher(deps: PublisherDeps): MemberCachePublisher {
  const log = deps.logger.child({ component: "member-cache" });
  const debounceMs = Math.min(deps.debounceMs ?? 1000, 5000);
  const maxBytes = deps.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  const sent = new Map<string, number>();
  const forceFull = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let closed = false;

  const envelope = (centerId: string, version: number, full: boolean): Omit<MemberCacheUnsigned, "members"> => ({
    v: 1,
    centerId,
    version,
    issuedAt: deps.clock.now(),
    full,
  });

  /**
   * Every member once, canonically serialized (the form that is signed), read
   * in pages with the event loop running between them. One snapshot serves
   * every center of a publishing run: 250 centers re-connecting after a
   * restart cost one registry scan and one serialization, not 250.
   * `version` is read first: a change committed during the scan has a higher
   * version, so the next delta (base = this version) carries it again;
   * upserts are idempotent, so the edge converges either way.
   */
  async function snapshot(): Promise<Snapshot> {
    const version = deps.members.version();
    const rows: Snapshot["rows"] = [];
    for (let after: string | null = null; ; ) {
      const page = deps.members.cacheMembersPage(null, after, PAGE);
      for (const m of page) {
        const canon = canonicalJson(m);
        rows.push({ centers: m.centers ?? "all", canon, bytes: Buffer.byteLength(canon) });
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]?.id ?? null;
      await new Promise<void>((r) => setImmediate(r));
    }
    return { version, rows };
  }

  /**
   * The signed wire payloads of a center's full cache. Each payload is the
   * canonical form itself plus `signature` (canonical JSON is JSON; the
   * receiver's canonicalization of the parsed message gives the signed bytes
   * back), built by splicing the members' canonical strings into the
   * canonical envelope — no per-center re-serialization of a million members.
   */
  function fullPayloads(centerId: string, snap: Snapshot): string[] {
    const groups: string[][] = [[]];
    let size = 0;
    for (const r of snap.rows) {
      if (!allowedAt(r.centers, centerId)) continue;
      const cur = groups[groups.length - 1] as string[];
      if (size + r.bytes + 1 > maxBytes - ENVELOPE_BYTES && cur.length > 0) {
        groups.push([r.canon]);
        size = r.bytes + 1;
      } else {
        cur.push(r.canon);
        size += r.bytes + 1;
      }
    }
    const count = groups.length;
    const issuedAt = deps.clock.now();
    return groups.map((members, index) => {
      const env = { ...envelope(centerId, snap.version, true), issuedAt, ...(count > 1 ? { part: { index, count } } : {}), members: [] };
      // The envelope's only "members":[] — center ids cannot contain quotes or brackets (protocol/ids.ts).
      const splice = (text: string) => text.replace('"members":[]', `"members":[${members.join(",")}]`);
      const signature = edSign(null, Buffer.from(splice(canonicalJson(env)), "utf8"), deps.privateKey).toString("base64");
      return splice(canonicalJson({ ...env, signature }));
    });
  }

  async function buildFull(centerId: string): Promise<MemberCacheMessage[]> {
    return fullPayloads(centerId, await snapshot()).map((p) => JSON.parse(p) as MemberCacheMessage);
  }

  async function sendFull(centerId: string, snap: () => Promise<Snapshot>): Promise<void> {
    const s = await snap();
    const parts = fullPayloads(centerId, s);
    const topic = topics.down(centerId, "members");
    if (parts.length === 1) await deps.publish(topic, parts[0] as string, { retain: true });
    else {
      await deps.publish(topic, "", { retain: true });
      for (const p of parts) await deps.publish(topic, p, { retain: false });
    }
    sent.set(centerId, s.version);
    log.info({ centerId, version: s.version, parts: parts.length }, "full member cache published");
  }

  async function sendDelta(centerId: string, base: number, snap: () => Promise<Snapshot>): Promise<void> {
    const version = deps.members.version();
    if (version === base) return;
    const { members, removed } = deps.members.changesSince(base, centerId);
    if (members.length === 0 && removed.length === 0) return; // nothing for this center; keep its base
    const msg = signMemberCache(
      { ...envelope(centerId, version, false), baseVersion: base, members, ...(removed.length ? { removed } : {}) },
      deps.privateKey,
    );
    const text = JSON.stringify(msg);
    if (Buffer.byteLength(text) > maxBytes) return sendFull(centerId, snap);
    await deps.publish(topics.down(centerId, "members"), text, { retain: true });
    sent.set(centerId, version);
    log.debug({ centerId, base, version, upserts: members.length, removed: removed.length }, "member cache delta published");
  }

  async function runOnce(): Promise<void> {
    let failed = false;
    const active = deps.isActive ?? (() => true);
    const known = new Set([...deps.centers(), ...forceFull].filter(active));
    for (const c of forceFull) if (!active(c)) forceFull.delete(c);
    let snap: Promise<Snapshot> | null = null;
    const shared = () => (snap ??= snapshot());
    for (const centerId of [...known].sort()) {
      try {
        const base = sent.get(centerId);
        if (base === undefined || forceFull.has(centerId)) {
          forceFull.delete(centerId);
          await sendFull(centerId, shared);
        } else await sendDelta(centerId, base, shared);
      } catch (e) {
        failed = true;
        forceFull.add(centerId); // unsure what the edge got: next time a full
        log.warn({ centerId, err: e }, "member cache publish failed; will retry");
      }
    }
    if (failed) schedule();
  }

  function schedule(): void {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = null;
      running = running.then(runOnce, runOnce);
    }, debounceMs);
  }

  const unsubscribe = deps.members.onChange(() => schedule());

  return {
    edgeOnline(centerId) {
      if (deps.isActive && !deps.isActive(centerId)) {
        log.warn({ centerId }, "edge online for an unknown or disabled center: no member cache sent");
        return;
      }
      forceFull.add(centerId);
      schedule();
    },
    async flush() {
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      running = running.then(runOnce, runOnce);
      await running;
    },
    sentVersion: (c) => sent.get(c),
    buildFull,
    async close() {
      closed = true;
      unsubscribe();
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
