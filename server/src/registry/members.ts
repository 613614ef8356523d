import { z } from "zod";
import type { Clock } from "../../../protocol/clock.ts";
import { HazriError } from "../../../protocol/errors.ts";
import { CardId, CenterId, MemberId } from "../../../protocol/ids.ts";
import type { CacheMember } from "../../../protocol/member-cache.ts";
import type { Migration, RegistryDb } from "./db.ts";

/**
 * Members and their cards. Every change bumps the registry version (one row,
 * a global counter) and stamps the changed member with it, so "what changed
 * since version B" is `WHERE version > B` — the source of the deltas sent to
 * the edges. Deleted members stay as tombstones (deleted = 1) so a delta can
 * name them in `removed`. `centers` is stored as 'all' or ',a,b,' so "members
 * allowed at center X" is one indexed-free scan with instr(), fine for 1M rows.
 */
export const migrations: Migration[] = [
  {
    id: "members-001-create",
    sql: `
      CREATE TABLE members (
        id TEXT PRIMARY KEY,
        name TEXT,
        status TEXT NOT NULL CHECK (status IN ('active','suspended')),
        valid_from TEXT,
        valid_until TEXT,
        centers TEXT NOT NULL DEFAULT 'all',
        schedule TEXT NOT NULL DEFAULT '24x7',
        staff INTEGER NOT NULL DEFAULT 0,
        deleted INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX members_version ON members(version);
      CREATE TABLE cards (
        card_id TEXT PRIMARY KEY,
        member_id TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
        revoked_at INTEGER,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX cards_member ON cards(member_id);
      CREATE TABLE registry_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
      INSERT INTO registry_version (id, version) VALUES (1, 0);
      CREATE TABLE member_imports (
        id TEXT PRIMARY KEY, state TEXT NOT NULL, rows_done INTEGER NOT NULL, rows_total INTEGER,
        ok INTEGER NOT NULL, failed INTEGER NOT NULL, errors TEXT NOT NULL,
        started_at INTEGER NOT NULL, finished_at INTEGER
      );`,
  },
  {
    // Centers a member was allowed at BEFORE a change of centers (or a
    // re-create after delete): a delta must tell center X to forget a member
    // moved away from X, and only center X.
    id: "members-002-changes",
    sql: `
      CREATE TABLE member_changes (version INTEGER NOT NULL, member_id TEXT NOT NULL, centers_before TEXT);
      CREATE INDEX member_changes_member ON member_changes(member_id, version);`,
  },
];

const PktDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD");
const Card = z.string().transform((s) => s.trim().toUpperCase()).pipe(CardId);
export const MemberFields = z
  .object({
    name: z.string().max(200).nullable(),
    status: z.enum(["active", "suspended"]),
    validFrom: PktDate.nullable(),
    validUntil: PktDate.nullable(),
    centers: z.union([z.array(CenterId).max(1000), z.literal("all")]),
    schedule: z.enum(["day", "night", "24x7"]),
    staff: z.boolean(),
  })
  .strict();
export const MemberCreate = MemberFields.partial()
  .extend({ id: MemberId, cards: z.array(Card).max(32).optional() })
  .strict();
export const MemberPatch = MemberFields.partial();
export type MemberCreate = z.input<typeof MemberCreate>;
export type MemberPatch = z.input<typeof MemberPatch>;

export interface Member {
  id: string;
  name: string | null;
  status: "active" | "suspended";
  validFrom: string | null;
  validUntil: string | null;
  centers: string[] | "all";
  schedule: "day" | "night" | "24x7";
  staff: boolean;
  cards: string[];
  revokedCards: string[];
  version: number;
  updatedAt: number;
}

interface Row {
  id: string;
  name: string | null;
  status: "active" | "suspended";
  valid_from: string | null;
  valid_until: string | null;
  centers: string;
  schedule: "day" | "night" | "24x7";
  staff: number;
  deleted: number;
  version: number;
  updated_at: number;
}

export const encodeCenters = (c: string[] | "all"): string => (c === "all" ? "all" : `,${[...new Set(c)].sort().join(",")},`);
export const decodeCenters = (s: string): string[] | "all" => (s === "all" ? "all" : s.split(",").filter(Boolean));

export function allowedAt(centers: string[] | "all", centerId: string): boolean {
  return centers === "all" || centers.includes(centerId);
}

export interface ListOptions {
  limit: number;
  /** Member id to continue after (keyset pagination, stable under inserts). */
  after?: string | undefined;
  /** Only members allowed at one of these centers (center staff); undefined = all. */
  atCenters?: string[] | undefined;
  status?: "active" | "suspended" | undefined;
}

export interface MembersRegistry {
  version(): number;
  get(id: string): Member | null;
  create(input: MemberCreate): Member;
  update(id: string, patch: MemberPatch): Member;
  remove(id: string): void;
  addCard(id: string, card: string): Member;
  revokeCard(id: string, card: string): Member;
  list(o: ListOptions): { members: Member[]; next: string | null };
  /** Members allowed at a center, in cache shape, streamed in id order (bounded memory for 1M). */
  cacheMembers(centerId: string): Generator<CacheMember>;
  /**
   * One page of the same, ids after `after`: each page is a complete query, so
   * a caller may yield to the event loop between pages (an open better-sqlite3
   * iterator would make every other statement on the connection fail as busy).
   * `centerId` null: every member (callers filter by `centers`).
   */
  cacheMembersPage(centerId: string | null, after: string | null, limit: number): CacheMember[];
  /** Changed since `base`: upserts allowed at the center, ids removed (deleted or not allowed there). */
  changesSince(base: number, centerId: string): { members: CacheMember[]; removed: string[] };
  /** Member id holding this card (not revoked), or null. */
  cardOwner(card: string): string | null;
  /** Centers named explicitly by any member. */
  namedCenters(): string[];
  /** Upsert many validated members in ONE transaction and one version bump (CSV import chunks). */
  upsertMany(items: z.output<typeof MemberCreate>[]): void;
  onChange(listener: (version: number) => void): () => void;
  readonly db: RegistryDb;
}

export function createMembersRegistry(db: RegistryDb, deps: { clock: Clock }): MembersRegistry {
  const listeners = new Set<(v: number) => void>();
  const q = {
    version: db.prepare("SELECT version FROM registry_version WHERE id = 1").pluck(),
    bump: db.prepare("UPDATE registry_version SET version = version + 1 WHERE id = 1 RETURNING version").pluck(),
    get: db.prepare("SELECT * FROM members WHERE id = ? AND deleted = 0"),
    getAny: db.prepare("SELECT * FROM members WHERE id = ?"),
    cards: db.prepare("SELECT card_id, revoked_at FROM cards WHERE member_id = ? ORDER BY card_id"),
    cardOwner: db.prepare("SELECT member_id, revoked_at FROM cards WHERE card_id = ?"),
    upsert: db.prepare(`INSERT INTO members (id, name, status, valid_from, valid_until, centers, schedule, staff, deleted, version, updated_at)
      VALUES (@id, @name, @status, @valid_from, @valid_until, @centers, @schedule, @staff, 0, @version, @updated_at)
      ON CONFLICT(id) DO UPDATE SET name = excluded.name, status = excluded.status, valid_from = excluded.valid_from,
        valid_until = excluded.valid_until, centers = excluded.centers, schedule = excluded.schedule, staff = excluded.staff,
        deleted = 0, version = excluded.version, updated_at = excluded.updated_at`),
    touch: db.prepare("UPDATE members SET version = ?, updated_at = ? WHERE id = ?"),
    tombstone: db.prepare("UPDATE members SET deleted = 1, version = ?, updated_at = ? WHERE id = ?"),
    insertCard: db.prepare("INSERT INTO cards (card_id, member_id, revoked_at, created_at) VALUES (?, ?, NULL, ?)"),
    deleteCard: db.prepare("DELETE FROM cards WHERE card_id = ?"),
    revoke: db.prepare("UPDATE cards SET revoked_at = ? WHERE card_id = ? AND member_id = ?"),
    dropCards: db.prepare("DELETE FROM cards WHERE member_id = ?"),
    atCenter: db.prepare(
      "SELECT * FROM members WHERE deleted = 0 AND (centers = 'all' OR instr(centers, ?) > 0) ORDER BY id",
    ),
    allPage: db.prepare("SELECT * FROM members WHERE deleted = 0 AND id > ? ORDER BY id LIMIT ?"),
    atCenterPage: db.prepare(
      "SELECT * FROM members WHERE deleted = 0 AND id > ? AND (centers = 'all' OR instr(centers, ?) > 0) ORDER BY id LIMIT ?",
    ),
    activeCards: db.prepare("SELECT card_id FROM cards WHERE member_id = ? AND revoked_at IS NULL ORDER BY card_id").pluck(),
    since: db.prepare("SELECT * FROM members WHERE version > ? ORDER BY id"),
    logChange: db.prepare("INSERT INTO member_changes (version, member_id, centers_before) VALUES (?, ?, ?)"),
    wasAt: db.prepare(
      "SELECT 1 FROM member_changes WHERE member_id = ? AND version > ? AND (centers_before = 'all' OR instr(centers_before, ?) > 0) LIMIT 1",
    ),
    centersList: db.prepare("SELECT DISTINCT centers FROM members WHERE deleted = 0 AND centers <> 'all'").pluck(),
  };

  const toMember = (r: Row): Member => {
    const cards = q.cards.all(r.id) as { card_id: string; revoked_at: number | null }[];
    return {
      id: r.id,
      name: r.name,
      status: r.status,
      validFrom: r.valid_from,
      validUntil: r.valid_until,
      centers: decodeCenters(r.centers),
      schedule: r.schedule,
      staff: r.staff === 1,
      cards: cards.filter((c) => c.revoked_at === null).map((c) => c.card_id),
      revokedCards: cards.filter((c) => c.revoked_at !== null).map((c) => c.card_id),
      version: r.version,
      updatedAt: r.updated_at,
    };
  };
  const toCache = (r: Row): CacheMember => {
    const m: CacheMember = {
      id: r.id,
      cards: q.activeCards.all(r.id) as string[],
      status: r.status,
      centers: decodeCenters(r.centers),
      schedule: r.schedule,
      staff: r.staff === 1,
    };
    if (r.valid_from) m.validFrom = r.valid_from;
    if (r.valid_until) m.validUntil = r.valid_until;
    return m;
  };
  const mustGet = (id: string): Row => {
    const r = q.get.get(id) as Row | undefined;
    if (!r) throw new HazriError("API_NOT_FOUND", `no member ${id}`);
    return r;
  };
  const notify = (v: number) => {
    for (const l of listeners) l(v);
  };
  /** Run `fn` in a transaction with a fresh version; listeners hear the version after commit. */
  const change = <T>(fn: (version: number, now: number) => T): T => {
    let version = 0;
    const result = db.transaction(() => {
      version = q.bump.get() as number;
      return fn(version, deps.clock.now());
    })();
    notify(version);
    return result;
  };
  const attachCard = (memberId: string, card: string, now: number) => {
    const owner = q.cardOwner.get(card) as { member_id: string; revoked_at: number | null } | undefined;
    if (owner && owner.revoked_at === null && owner.member_id !== memberId)
      throw new HazriError("API_CONFLICT", `card ${card} belongs to another member`, { card });
    if (owner && owner.member_id === memberId && owner.revoked_at === null) return;
    // A revoked card may be issued again (to anyone): the old row goes, the new one is active.
    if (owner) q.deleteCard.run(card);
    q.insertCard.run(card, memberId, now);
  };
  const writeRow = (m: z.output<typeof MemberCreate>, prev: Row | undefined, version: number, now: number) => {
    if (prev && m.centers !== undefined && encodeCenters(m.centers) !== prev.centers) q.logChange.run(version, m.id, prev.centers);
    q.upsert.run({
      id: m.id,
      name: m.name !== undefined ? m.name : (prev?.name ?? null),
      status: m.status ?? prev?.status ?? "active",
      valid_from: m.validFrom !== undefined ? m.validFrom : (prev?.valid_from ?? null),
      valid_until: m.validUntil !== undefined ? m.validUntil : (prev?.valid_until ?? null),
      centers: m.centers !== undefined ? encodeCenters(m.centers) : (prev?.centers ?? "all"),
      schedule: m.schedule ?? prev?.schedule ?? "24x7",
      staff: (m.staff ?? prev?.staff === 1) ? 1 : 0,
      version,
      updated_at: now,
    });
  };

  return {
    db,
    version: () => q.version.get() as number,
    get(id) {
      const r = q.get.get(id) as Row | undefined;
      return r ? toMember(r) : null;
    },
    create(input) {
      const m = MemberCreate.parse(input);
      change((version, now) => {
        const prev = q.getAny.get(m.id) as Row | undefined;
        if (prev && prev.deleted === 0) throw new HazriError("API_CONFLICT", `member ${m.id} exists`);
        if (prev) {
          q.dropCards.run(m.id); // re-created after delete: a fresh member
          q.logChange.run(version, m.id, prev.centers);
        }
        writeRow(m, undefined, version, now);
        for (const c of m.cards ?? []) attachCard(m.id, c, now);
      });
      return this.get(m.id) as Member;
    },
    update(id, patch) {
      const p = MemberPatch.parse(patch);
      change((version, now) => writeRow({ ...p, id }, mustGet(id), version, now));
      return this.get(id) as Member;
    },
    remove(id) {
      change((version, now) => {
        mustGet(id);
        q.tombstone.run(version, now, id);
        q.dropCards.run(id);
      });
    },
    addCard(id, card) {
      const c = Card.parse(card);
      change((version, now) => {
        mustGet(id);
        attachCard(id, c, now);
        q.touch.run(version, now, id);
      });
      return this.get(id) as Member;
    },
    revokeCard(id, card) {
      const c = Card.safeParse(card);
      if (!c.success) throw new HazriError("API_BAD_REQUEST", "card id: 2-32 hex digits");
      change((version, now) => {
        mustGet(id);
        if (q.revoke.run(now, c.data, id).changes === 0) throw new HazriError("API_NOT_FOUND", `member ${id} has no card ${c.data}`);
        q.touch.run(version, now, id);
      });
      return this.get(id) as Member;
    },
    list(o) {
      const where = ["deleted = 0"];
      const args: unknown[] = [];
      if (o.after !== undefined) (where.push("id > ?"), args.push(o.after));
      if (o.status) (where.push("status = ?"), args.push(o.status));
      if (o.atCenters) {
        where.push(`(centers = 'all'${o.atCenters.map(() => " OR instr(centers, ?) > 0").join("")})`);
        args.push(...o.atCenters.map((c) => `,${c},`));
      }
      const rows = db
        .prepare(`SELECT * FROM members WHERE ${where.join(" AND ")} ORDER BY id LIMIT ?`)
        .all(...args, o.limit + 1) as Row[];
      const more = rows.length > o.limit;
      const page = rows.slice(0, o.limit);
      return { members: page.map(toMember), next: more ? (page[page.length - 1]?.id ?? null) : null };
    },
    *cacheMembers(centerId) {
      for (const r of q.atCenter.iterate(`,${centerId},`) as Iterable<Row>) yield toCache(r);
    },
    cacheMembersPage(centerId, after, limit) {
      // '' sorts before every id (MemberId has min length 1).
      const rows = centerId === null ? q.allPage.all(after ?? "", limit) : q.atCenterPage.all(after ?? "", `,${centerId},`, limit);
      return (rows as Row[]).map(toCache);
    },
    changesSince(base, centerId) {
      const members: CacheMember[] = [];
      const removed: string[] = [];
      for (const r of q.since.all(base) as Row[]) {
        if (r.deleted === 0 && allowedAt(decodeCenters(r.centers), centerId)) members.push(toCache(r));
        // Tombstones keep their centers: deleted and allowed here → removed; moved away → removed only where it was.
        else if (allowedAt(decodeCenters(r.centers), centerId) || q.wasAt.get(r.id, base, `,${centerId},`)) removed.push(r.id);
      }
      return { members, removed };
    },
    cardOwner(card) {
      const o = q.cardOwner.get(card) as { member_id: string; revoked_at: number | null } | undefined;
      return o && o.revoked_at === null ? o.member_id : null;
    },
    namedCenters() {
      const s = new Set<string>();
      for (const c of q.centersList.all() as string[]) for (const id of decodeCenters(c) as string[]) s.add(id);
      return [...s].sort();
    },
    upsertMany(items) {
      if (items.length === 0) return;
      change((version, now) => {
        for (const m of items) {
          const prev = q.getAny.get(m.id) as Row | undefined;
          if (prev && prev.deleted === 1) q.logChange.run(version, m.id, prev.centers);
          writeRow(m, prev && prev.deleted === 0 ? prev : undefined, version, now);
          for (const c of m.cards ?? []) attachCard(m.id, c, now);
        }
      });
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
