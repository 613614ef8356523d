import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openRegistry } from "./db.ts";
import { createUsersRegistry, migrations } from "./users.ts";

function make() {
  let now = 1_000_000;
  const clock = { now: () => now, mono: () => now };
  const db = openRegistry(path.join(mkdtempSync(path.join(os.tmpdir(), "hazri-users-")), "r.db"), migrations);
  return { users: createUsersRegistry(db, { clock }), db, advance: (ms: number) => void (now += ms) };
}

describe("users registry", () => {
  it("scrypt passwords; unknown user and wrong password both null; tokens stored hashed, expire, revoke", async () => {
    const { users, db, advance } = make();
    const u = await users.create({ username: "ops", password: "a-good-password", role: "center_staff", centers: ["lhr-01", "isb-01", "isb-01"] });
    expect(u).toEqual({ username: "ops", role: "center_staff", centers: ["isb-01", "lhr-01"], memberId: null });
    expect(db.prepare("SELECT password_hash FROM users").pluck().get()).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await users.verifyPassword("ops", "a-good-password")).toMatchObject({ username: "ops" });
    expect(await users.verifyPassword("ops", "wrong-password")).toBeNull();
    expect(await users.verifyPassword("nobody", "a-good-password")).toBeNull();
    await expect(users.create({ username: "ops", password: "another-password", role: "pseb_admin" })).rejects.toMatchObject({ code: "API_CONFLICT" });

    const t = users.issueToken(u, "session", { ttlMs: 1000 });
    expect(t.token).toMatch(/^hz_[A-Za-z0-9_-]{43}$/);
    expect(db.prepare("SELECT COUNT(*) FROM tokens WHERE token_hash = ?").pluck().get(t.token)).toBe(0); // only the hash is stored
    expect(users.resolve(t.token)).toEqual({ username: "ops", role: "center_staff", centers: ["isb-01", "lhr-01"], memberId: null, tokenKind: "session" });
    expect(users.resolve(`${t.token.slice(0, -1)}${t.token.endsWith("A") ? "B" : "A"}`)).toBeNull(); // one character changed
    expect(users.resolve("garbage")).toBeNull();
    advance(1000);
    expect(users.resolve(t.token)).toBeNull(); // expired
    const t2 = users.issueToken(u, "api", { ttlMs: 60_000, name: "ci", centers: ["isb-01"] });
    expect(users.resolve(t2.token)).toMatchObject({ centers: ["isb-01"], tokenKind: "api" });
    expect(users.revokeToken(t2.token)).toBe(true);
    expect(users.resolve(t2.token)).toBeNull();
  });

  it("a token is never wider than its creator; role-specific fields are checked", async () => {
    const { users } = make();
    const staff = { username: "s", role: "center_staff" as const, centers: ["isb-01"], memberId: null };
    expect(() => users.issueToken(staff, "api", { ttlMs: 1, role: "pseb_admin" })).toThrow(expect.objectContaining({ code: "API_FORBIDDEN" }));
    expect(() => users.issueToken(staff, "api", { ttlMs: 1, centers: ["lhr-01"] })).toThrow(expect.objectContaining({ code: "API_FORBIDDEN" }));
    expect(() => users.issueToken(staff, "api", { ttlMs: 1, role: "member" })).toThrow(expect.objectContaining({ code: "API_BAD_REQUEST" }));
    await expect(users.create({ username: "m", password: "long-password", role: "member" })).rejects.toThrow(/memberId/);
    await expect(users.create({ username: "x", password: "short", role: "pseb_admin" })).rejects.toThrow(/10 characters/);
  });
});
