import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { openRegistry } from "./db.ts";
import { ACTIVE_TTL_MS, centerMain, createCenterStore, hashPassword, migrations, verifyPassword } from "./centers.ts";

const FAST = { N: 1024, r: 8, p: 1 };
const dirs: string[] = [];
async function tmpDb() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hazri-centers-"));
  dirs.push(dir);
  return path.join(dir, "registry.sqlite");
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe("center credentials", () => {
  it("hash encodes its cost; verify is exact", async () => {
    const h = await hashPassword("pw", FAST);
    expect(h).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword(h, "pw")).toBe(true);
    expect(await verifyPassword(h, "pw ")).toBe(false);
    expect(await verifyPassword("garbage", "pw")).toBe(false);
    expect(await hashPassword("pw", FAST)).not.toBe(h); // per-password salt
  });

  it("create → verify; wrong, unknown and disabled refused; survives reopen; passwords never stored", async () => {
    const file = await tmpDb();
    let db = openRegistry(file, migrations);
    const store = createCenterStore(db, { scrypt: FAST, clock: { now: () => 1_700_000_000_000 } });
    const { password } = await store.createCenter("isb-01", "Islamabad NASTP");
    expect(password.length).toBeGreaterThanOrEqual(32);
    expect(await store.verifyCenter("isb-01", password)).toBe(true);
    expect(await store.verifyCenter("isb-01", password)).toBe(true); // cached path
    expect(await store.verifyCenter("isb-01", `${password}x`)).toBe(false);
    expect(await store.verifyCenter("lhr-02", password)).toBe(false);
    await expect(store.createCenter("isb-01")).rejects.toMatchObject({ code: "CONFIG_INVALID" });
    await expect(store.createCenter("bad/id")).rejects.toMatchObject({ code: "CONFIG_INVALID" });
    const raw = JSON.stringify(db.prepare("SELECT * FROM centers").all());
    expect(raw).not.toContain(password);
    expect(store.isActive("isb-01")).toBe(true);
    expect(store.isActive("nope")).toBe(false);
    expect(store.disableCenter("isb-01")).toBe(true);
    expect(await store.verifyCenter("isb-01", password)).toBe(false); // cache dropped
    expect(store.isActive("isb-01")).toBe(false);
    expect(store.disableCenter("nope")).toBe(false);
    db.close();
    db = openRegistry(file, migrations); // migrations idempotent
    expect(createCenterStore(db).listCenters()).toEqual([
      { id: "isb-01", name: "Islamabad NASTP", createdAt: 1_700_000_000_000, disabledAt: 1_700_000_000_000 },
    ]);
    db.close();
  });

  it("hazri server center add/list/disable", async () => {
    const file = await tmpDb();
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), resolveRegistry: vi.fn(async () => file) };
    expect(await centerMain(["add", "khi-3", "--name", "Karachi", "--config", "x.yaml"], io)).toBe(0);
    expect(io.resolveRegistry).toHaveBeenCalledWith("x.yaml");
    const pw = /password: (\S+)/.exec(out.join(""))?.[1] ?? "";
    expect(pw.length).toBeGreaterThan(20);
    expect(await centerMain(["list", "--registry", file], io)).toBe(0);
    expect(out.join("")).toMatch(/khi-3\tKarachi\t.*\tenabled/);
    expect(await centerMain(["disable", "khi-3", "--registry", file], io)).toBe(0);
    expect(await centerMain(["disable", "nope", "--registry", file], io)).toBe(1);
    expect(await centerMain(["add", "--registry", file], io)).toBe(2);
    expect(await centerMain(["frobnicate"], io)).toBe(2);
    expect(await centerMain(["list"], io)).toBe(2);
    const db = openRegistry(file, migrations);
    const s = createCenterStore(db);
    expect(await s.verifyCenter("khi-3", pw)).toBe(false); // disabled
    db.close();
  });

  it("isActive follows adds and disables made by another process (the CLI) within ACTIVE_TTL_MS", async () => {
    const file = await tmpDb();
    let t = 1_700_000_000_000;
    const serverDb = openRegistry(file, migrations);
    const server = createCenterStore(serverDb, { scrypt: FAST, clock: { now: () => t } });
    const cliDb = openRegistry(file, migrations);
    const cli = createCenterStore(cliDb, { scrypt: FAST });
    expect(server.isActive("khi-9")).toBe(false);
    await cli.createCenter("khi-9");
    expect(server.isActive("khi-9")).toBe(false); // cached
    t += ACTIVE_TTL_MS;
    expect(server.isActive("khi-9")).toBe(true);
    cli.disableCenter("khi-9");
    t += ACTIVE_TTL_MS - 1;
    expect(server.isActive("khi-9")).toBe(true); // still cached
    t += 1;
    expect(server.isActive("khi-9")).toBe(false);
    serverDb.close();
    cliDb.close();
  });
});
