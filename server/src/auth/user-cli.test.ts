import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../../protocol/clock.ts";
import { openRegistry } from "../registry/db.ts";
import { createUsersRegistry, migrations } from "../registry/users.ts";
import { userMain } from "./user-cli.ts";

function run(argv: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), env, resolveRegistry: async () => "unused" };
  return userMain(argv, io).then((code) => ({ code, out: out.join(""), err: err.join("") }));
}

describe("hazri server user", () => {
  it("adds the first admin (password from HAZRI_PASSWORD), refuses duplicates and bad input", async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "hazri-user-")), "r.db");
    const ok = await run(["add", "root", "--role", "pseb_admin", "--registry", file], { HAZRI_PASSWORD: "a-long-password" });
    expect(ok).toMatchObject({ code: 0, out: expect.stringContaining("user root created (role pseb_admin)") });
    expect(ok.out).not.toContain("a-long-password");
    const db = openRegistry(file, migrations);
    expect(await createUsersRegistry(db, { clock: systemClock }).verifyPassword("root", "a-long-password")).toMatchObject({ role: "pseb_admin" });
    db.close();
    expect((await run(["add", "root", "--role", "pseb_admin", "--registry", file], { HAZRI_PASSWORD: "a-long-password" })).code).toBe(1);
    const gen = await run(["add", "ops", "--role", "center_staff", "--centers", "isb-01,lhr-01", "--registry", file]);
    expect(gen.code).toBe(0);
    expect(gen.out).toMatch(/centers isb-01,lhr-01[\s\S]*password: \S{20,}/);
    const noCenters = await run(["add", "s2", "--role", "center_staff", "--registry", file]);
    expect(noCenters).toMatchObject({ code: 1, err: expect.stringContaining("centers") });
    expect((await run(["add", "x", "--role", "king", "--registry", file])).code).toBe(2);
    expect((await run(["add", "x", "--role", "member"])).code).toBe(2);
  });
});
