import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Clock } from "../../../protocol/clock.ts";
import { HazriError } from "../../../protocol/errors.ts";
import { CenterId, MemberId } from "../../../protocol/ids.ts";
import type { Migration, RegistryDb } from "./db.ts";

/**
 * Users, sessions and API tokens. Passwords: scrypt (N=2^15, r=8, p=1, 16-byte
 * salt), stored as `scrypt$N$r$p$salt$hash` so parameters can be raised later.
 * Tokens (sessions and API tokens alike) are 32 random bytes shown once; only
 * their SHA-256 is stored — a token has 256 bits of entropy, so a fast hash is
 * enough (unlike passwords) and lookup stays one indexed read per request.
 */
export const migrations: Migration[] = [
  {
    id: "users-001-create",
    sql: `
      CREATE TABLE users (
        username TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('pseb_admin','center_staff','member')),
        centers TEXT NOT NULL DEFAULT '[]',
        member_id TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('session','api')),
        username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
        name TEXT,
        role TEXT NOT NULL,
        centers TEXT NOT NULL,
        member_id TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX tokens_user ON tokens(username);`,
  },
];

export const Role = z.enum(["pseb_admin", "center_staff", "member"]);
export type Role = z.infer<typeof Role>;
const RANK: Record<Role, number> = { member: 0, center_staff: 1, pseb_admin: 2 };

export const UserCreate = z
  .object({
    username: z.string().regex(/^[A-Za-z0-9_.@-]{2,64}$/, "username: 2-64 of [A-Za-z0-9_.@-]"),
    password: z.string().min(10, "password: at least 10 characters").max(200),
    role: Role,
    centers: z.array(CenterId).max(1000).default([]),
    memberId: MemberId.optional(),
  })
  .strict()
  .refine((u) => u.role !== "center_staff" || u.centers.length > 0, { message: "center staff need at least one center", path: ["centers"] })
  .refine((u) => u.role !== "member" || u.memberId !== undefined, { message: "a member user needs memberId", path: ["memberId"] });
export type UserCreate = z.input<typeof UserCreate>;

/** Who is calling: resolved from a token; what every route checks. */
export interface Caller {
  username: string;
  role: Role;
  /** Staff: their centers. Admin: [] (all). Member: []. */
  centers: string[];
  memberId: string | null;
  tokenKind: "session" | "api";
}

export interface UsersRegistry {
  create(u: UserCreate): Promise<Omit<Caller, "tokenKind">>;
  count(): number;
  /** Null when the user is unknown or the password is wrong (same timing either way). */
  verifyPassword(username: string, password: string): Promise<Omit<Caller, "tokenKind"> | null>;
  issueToken(
    who: Omit<Caller, "tokenKind">,
    kind: "session" | "api",
    o: { ttlMs: number; name?: string; role?: Role; centers?: string[] },
  ): { token: string; expiresAt: number; role: Role; centers: string[] };
  resolve(token: string): Caller | null;
  revokeToken(token: string): boolean;
  list(): Array<Omit<Caller, "tokenKind"> & { createdAt: number }>;
  /** Deletes the user and all their tokens; false when unknown. */
  remove(username: string): boolean;
}

const SCRYPT = { N: 1 << 15, r: 8, p: 1, keylen: 32 } as const;
const scryptAsync = (pw: string, salt: Buffer, N: number, r: number, p: number, len: number) =>
  new Promise<Buffer>((res, rej) => scrypt(pw, salt, len, { N, r, p, maxmem: 256 * N * r }, (e, k) => (e ? rej(e) : res(k))));

export async function hashPassword(pw: string): Promise<string> {
  const salt = randomBytes(16);
  const k = await scryptAsync(pw, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keylen);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64")}$${k.toString("base64")}`;
}
export async function checkPassword(pw: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split("$");
  if (alg !== "scrypt" || !salt || !hash) return false;
  const want = Buffer.from(hash, "base64");
  const got = await scryptAsync(pw, Buffer.from(salt, "base64"), Number(n), Number(r), Number(p), want.length);
  return got.length === want.length && timingSafeEqual(got, want);
}
const sha256 = (t: string) => createHash("sha256").update(t).digest("hex");

export function createUsersRegistry(db: RegistryDb, deps: { clock: Clock }): UsersRegistry {
  const q = {
    insert: db.prepare(
      "INSERT INTO users (username, password_hash, role, centers, member_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    get: db.prepare("SELECT * FROM users WHERE username = ?"),
    count: db.prepare("SELECT COUNT(*) FROM users").pluck(),
    insertToken: db.prepare(
      "INSERT INTO tokens (token_hash, kind, username, name, role, centers, member_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    token: db.prepare("SELECT * FROM tokens WHERE token_hash = ?"),
    deleteToken: db.prepare("DELETE FROM tokens WHERE token_hash = ?"),
    purge: db.prepare("DELETE FROM tokens WHERE expires_at <= ?"),
    list: db.prepare("SELECT * FROM users ORDER BY username"),
    remove: db.prepare("DELETE FROM users WHERE username = ?"),
    removeTokens: db.prepare("DELETE FROM tokens WHERE username = ?"),
  };
  type UserRow = { username: string; password_hash: string; role: Role; centers: string; member_id: string | null };
  const toWho = (r: UserRow) => ({ username: r.username, role: r.role, centers: JSON.parse(r.centers) as string[], memberId: r.member_id });
  // A fixed hash to compare against for unknown users: same work, no user enumeration by timing.
  let dummy: Promise<string> | null = null;

  return {
    async create(input) {
      const u = UserCreate.parse(input);
      if (q.get.get(u.username)) throw new HazriError("API_CONFLICT", `user ${u.username} exists`);
      const hash = await hashPassword(u.password);
      const centers = u.role === "center_staff" ? [...new Set(u.centers)].sort() : [];
      const memberId = u.role === "member" ? (u.memberId ?? null) : null;
      q.insert.run(u.username, hash, u.role, JSON.stringify(centers), memberId, deps.clock.now());
      return { username: u.username, role: u.role, centers, memberId };
    },
    count: () => q.count.get() as number,
    async verifyPassword(username, password) {
      const r = q.get.get(username) as UserRow | undefined;
      if (!r) {
        dummy ??= hashPassword("not-a-real-password");
        await checkPassword(password, await dummy);
        return null;
      }
      return (await checkPassword(password, r.password_hash)) ? toWho(r) : null;
    },
    issueToken(who, kind, o) {
      // A token may be narrower than its creator, never wider.
      const role = o.role ?? who.role;
      if (RANK[role] > RANK[who.role]) throw new HazriError("API_FORBIDDEN", `a ${who.role} cannot create a ${role} token`);
      let centers = role === "center_staff" ? (o.centers ?? who.centers) : [];
      if (role === "center_staff" && who.role === "center_staff" && centers.some((c) => !who.centers.includes(c)))
        throw new HazriError("API_FORBIDDEN", "a token cannot name centers its creator does not have");
      if (role === "center_staff" && centers.length === 0) throw new HazriError("API_BAD_REQUEST", "a center_staff token needs centers");
      if (role === "member" && who.memberId === null) throw new HazriError("API_BAD_REQUEST", "a member token needs a member user");
      centers = [...new Set(centers)].sort();
      const token = `hz_${randomBytes(32).toString("base64url")}`;
      const now = deps.clock.now();
      const expiresAt = now + o.ttlMs;
      q.purge.run(now);
      q.insertToken.run(sha256(token), kind, who.username, o.name ?? null, role, JSON.stringify(centers), role === "member" ? who.memberId : null, now, expiresAt);
      return { token, expiresAt, role, centers };
    },
    resolve(token) {
      if (!/^hz_[A-Za-z0-9_-]{43}$/.test(token)) return null;
      const r = q.token.get(sha256(token)) as
        | { kind: "session" | "api"; username: string; role: Role; centers: string; member_id: string | null; expires_at: number }
        | undefined;
      if (!r || r.expires_at <= deps.clock.now()) return null;
      return { username: r.username, role: r.role, centers: JSON.parse(r.centers) as string[], memberId: r.member_id, tokenKind: r.kind };
    },
    revokeToken(token) {
      return q.deleteToken.run(sha256(token)).changes > 0;
    },
    list() {
      return (q.list.all() as (UserRow & { created_at: number })[]).map((r) => ({ ...toWho(r), createdAt: r.created_at }));
    },
    remove(username) {
      // Explicit, not only ON DELETE CASCADE: a registry opened without foreign_keys must not keep live tokens.
      return db.transaction(() => {
        q.removeTokens.run(username);
        return q.remove.run(username).changes > 0;
      })();
    },
  };
}
